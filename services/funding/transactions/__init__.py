"""IATI transactions: money committed, received, disbursed and spent; corrected only by reversal."""
