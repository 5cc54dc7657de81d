/** openssl as a device would use it: keys and CSRs made by a tool nobody here wrote. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** An EC P-256 key and a CSR with the given subject, e.g. `/CN=SN1/serialNumber=SN1`. */
export async function opensslKeyAndCsr(
  dir: string,
  name: string,
  subject: string,
): Promise<{ keyFile: string; keyPem: string; csrPem: string }> {
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  await run('openssl', ['req', '-new', '-key', keyFile, '-subj', subject, '-out', csrFile]);
  return { keyFile, keyPem: await readFile(keyFile, 'utf8'), csrPem: await readFile(csrFile, 'utf8') };
}
