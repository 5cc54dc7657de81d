/**
 * The executions this device has started, kept across restarts so a duplicate notify (after a
 * reconnect or a reboot) is answered with the recorded outcome instead of running again, and a
 * reboot is reported only once the device came back. One JSON file written atomically
 * (durable-file.ts); the newest MAX_ENTRIES executions are kept.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { jobProgressSchema, type JobProgress } from '../../contracts/job-messages.ts';
import { ensurePrivateDirectory, writeFileDurably } from '../durable-file.ts';

/** Executions remembered; older ones are forgotten (the server stops retrying long before). */
export const MAX_ENTRIES = 500;

const entrySchema = z.strictObject({
  executionId: z.string(),
  attempt: z.number().int(),
  /** running: started, no outcome yet; reboot-requested: rebooting; done: `report` is final. */
  phase: z.enum(['running', 'reboot-requested', 'done']),
  startedAtMs: z.number(),
  report: jobProgressSchema.optional(),
});
export type BookEntry = z.infer<typeof entrySchema>;
const fileSchema = z.strictObject({ version: z.literal(1), entries: z.array(entrySchema) });

/** Where the book's text lives: a file, or memory (simulated devices, tests). */
export interface BookStorage {
  load(): Promise<string | undefined>;
  save(text: string): Promise<void>;
}

export function fileBookStorage(dir: string, options: { sync?: boolean } = {}): BookStorage {
  const path = join(dir, 'executions.json');
  return {
    async load() {
      try {
        return await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async save(text) {
      await ensurePrivateDirectory(dir);
      // Simulated devices skip the fsyncs: thousands of them share one disk.
      if (options.sync === false) {
        await writeFile(`${path}.tmp`, text, { mode: 0o600 });
        await rename(`${path}.tmp`, path);
        return;
      }
      await writeFileDurably(path, text, 0o600);
    },
  };
}

/** Survives a simulated reboot (the object outlives the agent), not a process restart. */
export function memoryBookStorage(): BookStorage & { text(): string | undefined } {
  let stored: string | undefined;
  return {
    load: () => Promise.resolve(stored),
    save: (text) => {
      stored = text;
      return Promise.resolve();
    },
    text: () => stored,
  };
}

export interface ExecutionBook {
  /** Reads the storage; an unreadable or invalid file starts an empty book (and says so). */
  load(): Promise<{ discarded?: string }>;
  get(executionId: string, attempt: number): BookEntry | undefined;
  /** Records and persists before resolving. */
  put(entry: BookEntry): Promise<void>;
  /** Entries left unfinished by the previous run (crash or reboot). */
  unfinished(): BookEntry[];
  /** Final report of a finished execution, after a restart. */
  finish(executionId: string, attempt: number, report: JobProgress): Promise<void>;
}

export function createExecutionBook(storage: BookStorage): ExecutionBook {
  let entries = new Map<string, BookEntry>();
  const key = (executionId: string, attempt: number) => `${executionId}#${attempt}`;
  // Writes are chained so two executions finishing together cannot interleave their files.
  let writing: Promise<void> = Promise.resolve();

  function persist(): Promise<void> {
    while (entries.size > MAX_ENTRIES) {
      const oldest = entries.keys().next().value as string;
      entries.delete(oldest);
    }
    const text = JSON.stringify({ version: 1, entries: [...entries.values()] });
    const next = writing.then(() => storage.save(text));
    writing = next.catch(() => {});
    return next;
  }

  return {
    async load() {
      entries = new Map();
      const text = await storage.load();
      if (text === undefined) return {};
      let parsed;
      try {
        parsed = fileSchema.safeParse(JSON.parse(text));
      } catch {
        return { discarded: 'the execution book is not JSON' };
      }
      if (!parsed.success) return { discarded: `the execution book is invalid: ${parsed.error.message}` };
      for (const entry of parsed.data.entries) entries.set(key(entry.executionId, entry.attempt), entry);
      return {};
    },
    get: (executionId, attempt) => entries.get(key(executionId, attempt)),
    put(entry) {
      const k = key(entry.executionId, entry.attempt);
      entries.delete(k); // re-inserted last: the newest stays when the book is trimmed
      entries.set(k, entry);
      return persist();
    },
    unfinished: () => [...entries.values()].filter((entry) => entry.phase !== 'done'),
    finish(executionId, attempt, report) {
      const entry = entries.get(key(executionId, attempt));
      if (!entry) return Promise.resolve();
      entry.phase = 'done';
      entry.report = report;
      return persist();
    },
  };
}
