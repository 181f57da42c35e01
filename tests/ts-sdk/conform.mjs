// What the SDK checks share: the official TypeScript SDK (@segment/public-api-sdk-typescript)
// loaded once, and `conforms`, which says whether an answer parsed into the SDK's models with
// every field their declarations require.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
export const sdk = require('@segment/public-api-sdk-typescript');
const modelDir = join(dirname(require.resolve('@segment/public-api-sdk-typescript')), 'model');

export class CheckFailed extends Error {}
export function check(ok, what) {
  if (!ok) throw new CheckFailed(what);
}

// The fields a model's declaration (model/<name>.d.ts) marks required: `'field': T;` as
// opposed to `'field'?: T;`. The compiled classes do not keep that, the declarations do.
const requiredCache = new Map();
function requiredFields(typeName) {
  if (!requiredCache.has(typeName)) {
    const file = join(modelDir, typeName[0].toLowerCase() + typeName.slice(1) + '.d.ts');
    const text = readFileSync(file, 'utf8');
    const fields = [...text.matchAll(/^\s*'([^']+)'(\?)?:/gm)]
      .filter((m) => !m[2])
      .map((m) => m[1]);
    requiredCache.set(typeName, fields);
  }
  return requiredCache.get(typeName);
}

// Whether `value` (as the SDK deserialised it) is a `type` of the SDK: model classes are
// instances with every required field, arrays hold their element type, primitives are typed.
export function conforms(value, type, path) {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    check(Array.isArray(value), `${path}: expected an array (${type}), got ${JSON.stringify(value)}`);
    value.forEach((v, i) => conforms(v, array[1], `${path}[${i}]`));
    return;
  }
  if (type === 'string' || type === 'boolean' || type === 'number') {
    check(typeof value === type, `${path}: expected ${type}, got ${JSON.stringify(value)}`);
    return;
  }
  if (type === 'any') return;
  const enumType = /^(\w+)\.(\w+Enum)$/.exec(type);
  if (enumType) {
    const values = sdk[enumType[1]] && sdk[enumType[1]][enumType[2]];
    check(values !== undefined, `${path}: ${type} is no enum of the SDK`);
    check(Object.values(values).includes(value), `${path}: ${JSON.stringify(value)} is not one of ${type}`);
    return;
  }
  if (type.startsWith('{')) {
    check(value !== null && typeof value === 'object', `${path}: expected an object, got ${JSON.stringify(value)}`);
    return;
  }
  const cls = sdk[type];
  check(typeof cls === 'function' && cls.getAttributeTypeMap, `${path}: ${type} is no model of the SDK`);
  check(value instanceof cls, `${path}: did not parse into ${type}: ${JSON.stringify(value)}`);
  for (const field of requiredFields(type)) {
    check(value[field] !== undefined, `${path}.${field}: required by ${type}, missing`);
  }
  for (const attr of cls.getAttributeTypeMap()) {
    const v = value[attr.name];
    if (v !== undefined && v !== null) conforms(v, attr.type, `${path}.${attr.name}`);
  }
}
