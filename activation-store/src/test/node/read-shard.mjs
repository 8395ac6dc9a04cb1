// Reads one Arrow IPC file (or stream) written by moescope with the independent apache-arrow JavaScript
// implementation and prints, as JSON: the schema (field names, types, metadata), the row count, and the values
// of the first N rows of every column. Used by StoreNodeInteropTest, which compares them with what Java wrote.
// Usage: node read-shard.mjs FILE [ROWS]
import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';

const [file, rowsArg] = process.argv.slice(2);
const table = tableFromIPC(readFileSync(file));
const limit = Math.min(table.numRows, rowsArg ? Number(rowsArg) : 20);

function plain(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (ArrayBuffer.isView(value)) return Array.from(value, plain);
  if (typeof value === 'object' && typeof value.toArray === 'function') return Array.from(value.toArray(), plain);
  return value;
}

const columns = {};
for (const field of table.schema.fields) {
  const column = table.getChild(field.name);
  const values = [];
  for (let i = 0; i < limit; i++) values.push(plain(column.get(i)));
  columns[field.name] = values;
}
const metadata = Object.fromEntries(table.schema.metadata);
const fields = table.schema.fields.map((f) => ({
  name: f.name,
  type: String(f.type),
  metadata: Object.fromEntries(f.metadata),
}));
process.stdout.write(JSON.stringify({ numRows: table.numRows, metadata, fields, columns }));
