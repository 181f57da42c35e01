// The official TypeScript SDK (@segment/public-api-sdk-typescript) against the emulator:
// listAuditEvents. Every page must parse into the SDK's models (ListAuditEvents200Response,
// AuditEventV1 with each field its declaration requires), newest first, each event once; the
// SDK's filters (startTime, endTime, resourceId, resourceType) must narrow the answer.
//
//   node audit.mjs BASE_URL TOKEN EXPECTED_EVENTS ACTOR_EMAIL
//   node audit.mjs BASE_URL TOKEN unavailable
//
// With `unavailable`, listAuditEvents must be refused with 403 (a workspace without the audit
// trail). Exits 0 when every check holds; otherwise prints why and exits 1.

import { CheckFailed, check, conforms, sdk } from './conform.mjs';

const [baseUrl, token, expected, actorEmail] = process.argv.slice(2);
if (!baseUrl || !token || expected === undefined) {
  console.error('usage: node audit.mjs BASE_URL TOKEN (EXPECTED_EVENTS ACTOR_EMAIL | unavailable)');
  process.exit(2);
}

const trail = new sdk.AuditTrailApi(baseUrl);
trail.accessToken = token;

// Every page of a listing (2 events a page), each checked against the SDK's models.
async function allEvents(what, startTime, endTime, resourceId, resourceType) {
  const events = [];
  let cursor;
  for (let page = 0; ; page++) {
    check(page < 1000, `${what}: more than 1000 pages`);
    const pagination = cursor === undefined ? { count: 2 } : { count: 2, cursor };
    const { response, body } = await trail.listAuditEvents(pagination, startTime, endTime, resourceId, resourceType);
    check(response.statusCode === 200, `${what}: status ${response.statusCode}`);
    conforms(body, 'ListAuditEvents200Response', `${what} page ${page}`);
    check(body.data.events.length <= 2, `${what} page ${page}: more than count=2 events`);
    events.push(...body.data.events);
    cursor = body.data.pagination ? body.data.pagination.next ?? undefined : undefined;
    if (cursor === undefined) break;
  }
  return events;
}

async function unavailable() {
  let refused;
  try {
    await trail.listAuditEvents({ count: 2 });
  } catch (e) {
    refused = e;
  }
  check(refused && refused.statusCode === 403, `listAuditEvents without the audit trail: ${refused ? refused.statusCode : 'accepted'}`);
  console.log('ok: listAuditEvents refused with 403');
}

async function main() {
  if (expected === 'unavailable') return unavailable();
  const all = await allEvents('listAuditEvents');
  check(all.length === Number(expected), `listAuditEvents: ${all.length} events, expected ${expected}`);
  const ids = new Set(all.map((e) => e.id));
  check(ids.size === all.length, 'listAuditEvents: an event on two pages');
  for (let i = 1; i < all.length; i++) {
    check(Date.parse(all[i - 1].timestamp) >= Date.parse(all[i].timestamp), `listAuditEvents: ${all[i - 1].id} older than ${all[i].id}`);
  }
  for (const e of all) {
    check(!Number.isNaN(Date.parse(e.timestamp)), `listAuditEvents: ${e.id} timestamp ${e.timestamp}`);
    check(e.actor === actorEmail && e.actorEmail === actorEmail, `listAuditEvents: ${e.id} by ${e.actor}`);
  }

  // resourceId / resourceType: only that resource's events.
  const group = all.find((e) => e.type === 'User Group Created');
  check(group !== undefined, 'listAuditEvents: no User Group Created');
  const ofGroup = await allEvents('listAuditEvents(resourceId)', undefined, undefined, group.resourceId, group.resourceType);
  check(ofGroup.length > 0 && ofGroup.every((e) => e.resourceId === group.resourceId), `resourceId: ${JSON.stringify(ofGroup)}`);
  check(ofGroup.length === all.filter((e) => e.resourceId === group.resourceId).length, 'resourceId: events missing');

  // startTime / endTime: a window after everything, and one before everything, are empty;
  // one around everything holds every event.
  const later = new Date(Date.parse(all[0].timestamp) + 60_000).toISOString();
  const earlier = new Date(Date.parse(all[all.length - 1].timestamp) - 60_000).toISOString();
  check((await allEvents('startTime', later)).length === 0, 'startTime after every event: not empty');
  check((await allEvents('endTime', undefined, earlier)).length === 0, 'endTime before every event: not empty');
  check((await allEvents('window', earlier, later)).length === all.length, 'a window around every event: events missing');
  console.log(`ok: listAuditEvents (${all.length} events)`);
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
