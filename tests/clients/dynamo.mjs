// DynamoDBDocumentClient put/get/query on every table whose ConfigMap keys are in the environment
// (<prefix>TABLE_NAME etc., contract §3), plus a query on each of its indexes.
// Endpoint from AWS_ENDPOINT_URL (read by the SDK itself), region from each table's AWS_REGION.
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { env, run, until } from "./lib.mjs";

function sample(type, seed) {
  if (type === "N") return 1000 + (parseInt(seed.slice(0, 6), 16) % 100000);
  if (type === "B") return Buffer.from(seed);
  return `v-${seed}`;
}

function tables() {
  const prefixes = Object.keys(process.env).filter((k) => k.endsWith("TABLE_NAME")).map((k) => k.slice(0, -10));
  if (prefixes.length === 0) throw new Error("no <prefix>TABLE_NAME key in the environment");
  return prefixes.sort().map((p) => ({
    prefix: p,
    name: env(`${p}TABLE_NAME`),
    region: env(`${p}AWS_REGION`),
    pk: { name: env(`${p}PARTITION_KEY`), type: env(`${p}PARTITION_KEY_TYPE`) },
    sk: process.env[`${p}SORT_KEY`] ? { name: env(`${p}SORT_KEY`), type: env(`${p}SORT_KEY_TYPE`) } : null,
    indexes: JSON.parse(process.env[`${p}INDEXES`] || "[]"),
    indexNames: (process.env[`${p}INDEX_NAMES`] || "").split(",").filter(Boolean),
  }));
}

async function check(t, state) {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: t.region }));
  const seed = randomUUID().replaceAll("-", "");
  const item = { payload: `client-check-${seed}` };
  const key = { [t.pk.name]: sample(t.pk.type, seed) };
  if (t.sk) key[t.sk.name] = sample(t.sk.type, seed);
  for (const ix of t.indexes) {
    item[ix.partitionKey] ??= key[ix.partitionKey] ?? sample(ix.partitionKeyType, seed);
    if (ix.sortKey) item[ix.sortKey] ??= key[ix.sortKey] ?? sample(ix.sortKeyType, seed);
  }
  Object.assign(item, key);
  state.step = `${t.prefix}put`;
  await doc.send(new PutCommand({ TableName: t.name, Item: item }));
  state.step = `${t.prefix}get`;
  const got = await doc.send(new GetCommand({ TableName: t.name, Key: key, ConsistentRead: true }));
  if (got.Item?.payload !== item.payload) throw new Error(`${t.name}: get did not return the item put`);
  state.step = `${t.prefix}query`;
  const q = await doc.send(new QueryCommand({
    TableName: t.name,
    KeyConditionExpression: "#p = :p",
    ExpressionAttributeNames: { "#p": t.pk.name },
    ExpressionAttributeValues: { ":p": key[t.pk.name] },
    ConsistentRead: true,
  }));
  if (!q.Items?.some((i) => i.payload === item.payload)) throw new Error(`${t.name}: query missed the item`);
  const names = t.indexes.map((ix) => ix.name);
  if (names.join(",") !== t.indexNames.join(",")) {
    throw new Error(`${t.prefix}INDEX_NAMES ${t.indexNames} disagrees with ${t.prefix}INDEXES ${names}`);
  }
  for (const ix of t.indexes) {
    state.step = `${t.prefix}query-index-${ix.name}`;
    // Global indexes are eventually consistent: retry briefly.
    const found = await until(async () => {
      const r = await doc.send(new QueryCommand({
        TableName: t.name,
        IndexName: ix.name,
        KeyConditionExpression: "#p = :p",
        ExpressionAttributeNames: { "#p": ix.partitionKey },
        ExpressionAttributeValues: { ":p": item[ix.partitionKey] },
      }));
      return r.Items?.some((i) => i[t.pk.name] !== undefined && String(i[t.pk.name]) === String(key[t.pk.name]));
    }, 10000);
    if (!found) throw new Error(`${t.name}: query on index ${ix.name} missed the item`);
  }
  return { table: t.name, indexes: names };
}

await run(async (state) => {
  env("AWS_ENDPOINT_URL");
  const checked = [];
  for (const t of tables()) checked.push(await check(t, state));
  return { tables: checked };
});
