"""Where the domain's effects land: rows in memory, loaded from and saved to the projections in bulk.

The live consumer loads the rows a batch of events touches, applies the batch and saves what
changed, in one transaction; the rebuild starts from empty tables and saves everything at the end.
"""
from collections import defaultdict

from . import domain, repository as repo


class MemoryStore:
    """Projection rows and counters as Python dicts: what domain.apply works on."""

    def __init__(self):
        self.rows = defaultdict(dict)      # table -> key -> row
        self.counters = defaultdict(dict)  # table -> key -> amounts

    def get(self, table, key):
        return self.rows[table].get(key)

    def put(self, table, key, row):
        self.rows[table][key] = row

    def add(self, table, key, amounts):
        counter = self.counters[table].get(key)
        if counter is None:
            self.counters[table][key] = dict(amounts)
        else:
            for name, value in amounts.items():
                counter[name] += value

    def load(self, cur, changes):
        """Read the stored rows that `changes` will merge into."""
        keys = defaultdict(set)
        for change in changes:
            if isinstance(change, domain.Upsert):
                keys[change.table].add(change.key)
        for table, wanted in keys.items():
            key_columns = repo.UPSERT_TABLES[table][0]
            for row in repo.rows_for(cur, table, wanted):
                self.rows[table][tuple(str(row[c]) for c in key_columns)] = row

    def tables(self):
        """{table: [row tuples in the repository's column order]} for every projection."""
        result = {}
        for table in repo.UPSERT_TABLES:
            columns = repo.columns_of(table)
            result[table] = [tuple(row[c] for c in columns) for row in self.rows[table].values()]
        for table, (_, values) in repo.INCREMENT_TABLES.items():
            result[table] = [key + tuple(amounts[v] for v in values) for key, amounts in self.counters[table].items()]
        return result

    def save(self, cur):
        """Write every row held (replacing the stored one) and add every counter."""
        for table, rows in self.tables().items():
            if rows:
                (repo.write_rows if table in repo.UPSERT_TABLES else repo.add_counts)(cur, table, rows)
