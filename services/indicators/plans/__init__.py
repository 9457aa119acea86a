"""plans: priority action plans, their actions, and their execution from funding /stats."""
