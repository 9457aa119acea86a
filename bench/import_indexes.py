"""Which query of the registry each index an import fills serves (indexes cost every import:
each must earn its place). On a throwaway stack seeded with the synthetic registry, each
statement below, the one the registry runs (or its shape, with sample values), is
EXPLAINed and the indexes of its plan printed; an index no statement uses is listed last.

    python -m bench.import_indexes [--households 20000]

The name-key indexes of `individual` are here too: the duplicate candidates' lookup (a
pair of name parts), name search (a pair of words; one common word walked in name order)
and the list of people in name order.
"""

from __future__ import annotations

import argparse
import asyncio
import re

import asyncpg

from bench.registry_seed import seed_registry
from bench.stack import bench_stack

TABLES = ("household", "individual", "membership", "identifier", "duplicate_pair", "audit_event")
_DUPLICATE_LOOKUP = (
    "SELECT id FROM individual WHERE {a}_key = ${a} AND {b}_key = ${b} AND sex = $sex "
    "AND birth_year BETWEEN $year - 2 AND $year + 2 AND status <> 'merged'"
)
_COMMON_NAME = (
    "SELECT id FROM individual WHERE status = 'active' AND {a}_key = ${a} "
    "ORDER BY name_folded, id LIMIT 51"
)

# (who runs it, statement); $h a household id, $i a person id, $r a region code, $l a
# locality code, $n a registry number, $d an identifier's (type, value).
STATEMENTS: tuple[tuple[str, str], ...] = (
    ("GET /households/{id}", "SELECT * FROM household WHERE id = $h"),
    (
        "household list, keyset in registry number order (records/search.py)",
        "SELECT id FROM household WHERE status = 'active' AND registry_number > $n "
        "ORDER BY registry_number LIMIT 50",
    ),
    (
        "a registrar's region, a locality filter (records/search.py, stats)",
        "SELECT count(*) FROM household WHERE status = 'active' AND region_code = $r "
        "AND locality_code = $l",
    ),
    (
        "GET /stats?registered_from&registered_to (stats/repository.py)",
        "SELECT count(*) FROM household WHERE status = 'active' "
        "AND registration_date >= DATE '2025-03-01' AND registration_date <= DATE '2025-03-07'",
    ),
    (
        "GET /sync/changes, all regions (sync/repository.py)",
        "SELECT id FROM household WHERE (change_txid, change_seq) > (0, 0) "
        "ORDER BY change_txid, change_seq LIMIT 200",
    ),
    (
        "GET /sync/changes, a registrar's (smallest) region (sync/repository.py)",
        "SELECT c.id FROM unnest(ARRAY[$rs]) AS r(code) CROSS JOIN LATERAL ("
        "SELECT h.id, h.change_txid, h.change_seq FROM household h WHERE h.region_code = r.code "
        "AND (h.change_txid, h.change_seq) > (0, 0) ORDER BY h.change_txid, h.change_seq "
        "LIMIT 200) c",
    ),
    (
        "a field-app submission sent again (records/repository.py taken)",
        "SELECT id FROM household WHERE registration_source = 'field_app' "
        "AND submission_id = 'sub-1' AND submission_id IS NOT NULL",
    ),
    ("GET /individuals/{id}", "SELECT * FROM individual WHERE id = $i"),
    *(
        (
            f"duplicate candidates, {a} and {b} names agreeing (dedup/repository.py)",
            _DUPLICATE_LOOKUP.format(a=a, b=b),
        )
        for a, b in (("given", "father"), ("given", "grandfather"), ("father", "grandfather"))
    ),
    (
        "name search, two words, either way round (records/search.py name_conditions)",
        "SELECT id FROM individual WHERE status = 'active' AND ((given_key = $given AND "
        "father_key = $father) OR (father_key = $given AND given_key = $father))",
    ),
    *(
        (
            f"name search, a common {a} name walked in name order (records/search.py)",
            _COMMON_NAME.format(a=a),
        )
        for a in ("given", "father", "grandfather")
    ),
    (
        "GET /individuals, name order, no search (records/search.py list_individuals)",
        "SELECT id FROM individual WHERE status = 'active' ORDER BY name_folded, id LIMIT 51",
    ),
    (
        "a household's members (records/repository.py, pmt, programmes)",
        "SELECT id FROM individual WHERE household_id = ANY(ARRAY[$h]::uuid[]) "
        "AND status = 'active'",
    ),
    (
        "a household's head (the one-head rule, head changes)",
        "SELECT id FROM individual WHERE household_id = $h AND relationship_to_head = 'head' "
        "AND status = 'active'",
    ),
    (
        "a household's membership history (records/repository.py)",
        "SELECT * FROM membership WHERE household_id = $h",
    ),
    (
        "members leaving (records/repository.py end memberships)",
        "SELECT id FROM membership WHERE individual_id = ANY(ARRAY[$i]::uuid[]) "
        "AND ended_on IS NULL",
    ),
    (
        "a person's identifiers (records/repository.py)",
        "SELECT type, value FROM identifier WHERE individual_id = $i",
    ),
    (
        "identifiers registered already, unique types (records/repository.py taken)",
        "SELECT d.type, d.value FROM identifier d JOIN unnest(ARRAY[$dt], ARRAY[$dv]) "
        "AS w(type, value) ON d.type = w.type AND d.value = w.value "
        "WHERE d.type IN ('national_id', 'birth_certificate', 'unhcr_individual', 'wfp_scope')",
    ),
    (
        "owners of identifiers, any type: phone, UNHCR case (records/repository.py, dedup)",
        "SELECT individual_id FROM identifier WHERE (type, value) IN (('phone', $pv))",
    ),
    (
        "GET /duplicates (the review queue, dedup/repository.py)",
        "SELECT id FROM duplicate_pair WHERE status = 'open' ORDER BY detected_at, id LIMIT 50",
    ),
    ("GET /duplicates/{id}", "SELECT * FROM duplicate_pair WHERE id = $p"),
    (
        "a person's pairs, closed on merge (dedup/repository.py)",
        "SELECT id FROM duplicate_pair WHERE status = 'open' "
        "AND (individual_id = $i OR candidate_id = $i)",
    ),
    (
        "GET /audit?resource_id (shared/audit.py)",
        "SELECT id FROM audit_event WHERE resource_id = $h ORDER BY at DESC, id DESC LIMIT 50",
    ),
    (
        "GET /audit?actor",
        "SELECT id FROM audit_event WHERE actor = 'agent-7' ORDER BY at DESC, id DESC LIMIT 50",
    ),
    ("GET /audit, newest first", "SELECT id FROM audit_event ORDER BY at DESC, id DESC LIMIT 50"),
)


async def review(server_url: str) -> None:
    connection = await asyncpg.connect(server_url.replace("/postgres?", "/beneficiaries?"))
    try:
        await connection.execute(
            "INSERT INTO audit_event (actor, roles, action, resource_type, resource_id, "
            "household_id, detail) SELECT 'agent-' || (random() * 300)::int, '{}', 'import', "
            "'household', id, id, '{}' FROM household"
        )
        await connection.execute(
            "INSERT INTO duplicate_pair (id, individual_id, candidate_id, score, reasons, status) "
            "SELECT gen_random_uuid(), a.id, b.id, 0.8, '{}', 'open' FROM individual a "
            "JOIN individual b ON b.household_id = a.household_id AND b.id > a.id LIMIT 20000"
        )
        await connection.execute("ANALYZE")
        sample = await connection.fetchrow(
            "SELECT h.id AS h, i.id AS i, h.region_code AS r, h.locality_code AS l, "
            "h.registry_number AS n FROM household h JOIN individual i ON i.household_id = h.id "
            "ORDER BY h.registry_number OFFSET 1000 LIMIT 1"
        )
        identifier = await connection.fetchrow(
            "SELECT type, value FROM identifier WHERE type = 'national_id' LIMIT 1"
        )
        phone = await connection.fetchval(
            "SELECT value FROM identifier WHERE type = 'phone' LIMIT 1"
        )
        pair = await connection.fetchval("SELECT id FROM duplicate_pair LIMIT 1")
        # The most common names: where a scan in name order is the plan to beat.
        person = await connection.fetchrow(
            "SELECT given_key, father_key, grandfather_key, sex, birth_year FROM individual "
            "WHERE grandfather_key IS NOT NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY count(*) DESC "
            "LIMIT 1"
        )
        # A registrar of a small region: the case the region's change index is for.
        small = await connection.fetchval(
            "SELECT region_code FROM household GROUP BY region_code ORDER BY count(*) LIMIT 1"
        )
        values = {
            **{key: f"'{sample[key]}'" for key in ("h", "i", "r", "l", "n")},
            "dt": f"'{identifier['type']}'",
            "dv": f"'{identifier['value']}'",
            "pv": f"'{phone}'",
            "p": f"'{pair}'",
            "rs": f"'{small}'",
            **{part: f"'{person[part + '_key']}'" for part in ("given", "father", "grandfather")},
            "sex": f"'{person['sex']}'",
            "year": str(person["birth_year"]),
        }
        used: dict[str, list[str]] = {}
        for purpose, statement in STATEMENTS:
            sql = re.sub(r"\$(\w+)", lambda m: values[m[1]], statement)
            plan = "\n".join(row[0] for row in await connection.fetch(f"EXPLAIN (COSTS OFF) {sql}"))
            indexes = sorted(
                set(re.findall(r"[Ii]ndex(?: Only)? Scan(?: Backward)? using (\w+)", plan))
            )
            indexes += sorted(set(re.findall(r"Bitmap Index Scan on (\w+)", plan)) - set(indexes))
            shown = ", ".join(indexes) or f"no index ({plan.splitlines()[0].strip()})"
            print(f"- {purpose}\n    {shown}")
            for index in indexes:
                used.setdefault(index, []).append(purpose)
        rows = await connection.fetch(
            "SELECT tablename, indexname, pg_relation_size(indexname::regclass) AS bytes "
            "FROM pg_indexes WHERE tablename = ANY($1::text[]) ORDER BY tablename, indexname",
            list(TABLES),
        )
        print("\nindexes the import fills:")
        for row in rows:
            name = row["indexname"]
            if name in used:
                note = f"{len(used[name])} statement(s)"
            else:
                note = "UNUSED by these statements"
            print(f"  {row['tablename']:<15} {name:<40} {row['bytes'] / 1e6:7.1f} MB  {note}")
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=20_000)
    args = parser.parse_args()
    with bench_stack() as stack:
        assert stack.server_url is not None
        seeded = asyncio.run(seed_registry(stack.server_url, args.households, 3, 0.0))
        print(seeded.line())
        asyncio.run(review(stack.server_url))


if __name__ == "__main__":
    main()
