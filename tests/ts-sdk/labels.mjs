// The official TypeScript SDK (@segment/public-api-sdk-typescript) against the emulator:
// listLabels, createLabel, deleteLabel and listSources. Every answer must parse into the
// SDK's models, with each field the SDK's declarations require, and hold what was asked.
//
//   node labels.mjs BASE_URL TOKEN EXPECTED_SOURCES
//
// Exits 0 when every check holds; otherwise prints why and exits 1.

import { CheckFailed, check, conforms, sdk } from './conform.mjs';

const [baseUrl, token, expectedSourcesText] = process.argv.slice(2);
if (!baseUrl || !token || expectedSourcesText === undefined) {
  console.error('usage: node labels.mjs BASE_URL TOKEN EXPECTED_SOURCES');
  process.exit(2);
}
const expectedSources = Number(expectedSourcesText);

const labels = new sdk.LabelsApi(baseUrl);
labels.accessToken = token;
const sources = new sdk.SourcesApi(baseUrl);
sources.accessToken = token;

const asText = (l) => `${l.key}:${l.value}`;

async function labelTexts() {
  const { response, body } = await labels.listLabels();
  check(response.statusCode === 200, `listLabels: status ${response.statusCode}`);
  conforms(body, 'ListLabels200Response', 'listLabels');
  return body.data.labels.map(asText);
}

async function main() {
  // listLabels: the two labels every workspace has.
  const before = await labelTexts();
  for (const l of ['environment:dev', 'environment:prod']) {
    check(before.includes(l), `listLabels: ${l} missing from ${before}`);
  }

  // createLabel: 201 and the label asked for.
  const created = await labels.createLabel({ label: { key: 'region', value: 'emea', description: 'EU' } });
  check(created.response.statusCode === 201, `createLabel: status ${created.response.statusCode}`);
  conforms(created.body, 'CreateLabel201Response', 'createLabel');
  const label = created.body.data.label;
  check(
    label.key === 'region' && label.value === 'emea' && label.description === 'EU',
    `createLabel: answered ${JSON.stringify(label)}`,
  );
  check((await labelTexts()).includes('region:emea'), 'listLabels after createLabel: region:emea missing');

  // listSources: every page parses; every source once; each carries one environment label.
  const seen = new Set();
  let cursor;
  let total;
  for (let page = 0; ; page++) {
    check(page < 1000, 'listSources: more than 1000 pages');
    const pagination = cursor === undefined ? { count: 2 } : { count: 2, cursor };
    const { response, body } = await sources.listSources(pagination);
    check(response.statusCode === 200, `listSources: status ${response.statusCode}`);
    conforms(body, 'ListSources200Response', `listSources page ${page}`);
    check(body.data.sources.length <= 2, `listSources page ${page}: more than count=2 sources`);
    total = body.data.pagination.totalEntries;
    for (const s of body.data.sources) {
      check(!seen.has(s.id), `listSources: ${s.id} on two pages`);
      seen.add(s.id);
      const env = s.labels.filter((l) => l.key === 'environment').map(asText);
      check(env.length === 1, `listSources: ${s.id} carries ${JSON.stringify(s.labels)}`);
    }
    cursor = body.data.pagination.next ?? undefined;
    if (cursor === undefined) break;
  }
  check(seen.size === expectedSources, `listSources: ${seen.size} sources, expected ${expectedSources}`);
  check(total === expectedSources, `listSources: totalEntries ${total}, expected ${expectedSources}`);

  // deleteLabel: SUCCESS, and the label is gone.
  const deleted = await labels.deleteLabel('region', 'emea');
  check(deleted.response.statusCode === 200, `deleteLabel: status ${deleted.response.statusCode}`);
  conforms(deleted.body, 'DeleteLabel200Response', 'deleteLabel');
  check(deleted.body.data.status === 'SUCCESS', `deleteLabel: answered ${JSON.stringify(deleted.body)}`);
  check(!(await labelTexts()).includes('region:emea'), 'listLabels after deleteLabel: region:emea still there');

  // A label in use on sources is refused: the SDK rejects with the service's status.
  if (expectedSources > 0) {
    let refused;
    try {
      await labels.deleteLabel('environment', 'prod');
    } catch (e) {
      refused = e;
    }
    check(refused && refused.statusCode === 409, `deleteLabel of a label in use: ${refused ? refused.statusCode : 'accepted'}`);
    check((await labelTexts()).includes('environment:prod'), 'a refused deleteLabel removed the label');
  }
  console.log(`ok: listLabels, createLabel, deleteLabel, listSources (${seen.size} sources)`);
}

main().catch((e) => {
  if (e instanceof CheckFailed) {
    console.error(`check failed: ${e.message}`);
  } else {
    const detail = e && e.body !== undefined ? ` (status ${e.statusCode}: ${JSON.stringify(e.body)})` : '';
    console.error(`error: ${e && e.stack ? e.stack : e}${detail}`);
  }
  process.exit(1);
});
