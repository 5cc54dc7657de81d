/**
 * SQLite: times are integer ms, tags are JSON text. Tags are read with json_each so the key is
 * compared as a bound value, never written into a JSON path. Version keys come from the
 * application function `flotilla_version_key`, registered on the connection by the store.
 */
import type { QueryDialect } from './dialect.ts';

export const sqliteVersionKeyFunction = 'flotilla_version_key';

export const sqliteQueryDialect: QueryDialect = {
  time: (ms, bind) => bind(ms),
  versionKey: (column) => `${sqliteVersionKeyFunction}(${column})`,
  versionValue: (key, bind) => bind(key),
  tagExists: (key, bind) =>
    `EXISTS (SELECT 1 FROM json_each(devices.tags) AS tag WHERE tag.key = ${bind(key)})`,
  tagIn: (key, values, bind) =>
    `EXISTS (SELECT 1 FROM json_each(devices.tags) AS tag WHERE tag.key = ${bind(key)} AND tag.value IN (${values.map(bind).join(', ')}))`,
};
