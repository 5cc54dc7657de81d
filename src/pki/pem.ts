/** Strict PEM splitting (RFC 7468): labelled base64 blocks, nothing else but whitespace between. */
import { X509Certificate } from 'node:crypto';
import { ValidationError } from '../infra/errors.ts';

export interface PemBlock {
  label: string;
  der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The PEM blocks in `text`, or undefined when anything besides whitespace lies outside them. */
export function splitPem(text: string): PemBlock[] | undefined {
  const blocks: PemBlock[] = [];
  let rest = '';
  let last = 0;
  for (const match of text.matchAll(BLOCK)) {
    rest += text.slice(last, match.index);
    last = match.index + match[0].length;
    const body = (match[2] ?? '').replace(/\r?\n/g, '');
    if (!BASE64.test(body) || body.length % 4 !== 0) return undefined;
    blocks.push({ label: match[1] ?? '', der: Buffer.from(body, 'base64') });
  }
  rest += text.slice(last);
  return rest.trim() === '' ? blocks : undefined;
}

/** The PEM certificates in `text`, in order; throws on anything that is not one. */
export function certificatePems(text: string): string[] {
  const blocks = splitPem(text);
  if (!blocks || blocks.some((b) => b.label !== 'CERTIFICATE'))
    throw new ValidationError('expected one or more PEM certificates and nothing else');
  for (const { der } of blocks) {
    try {
      new X509Certificate(der);
    } catch {
      throw new ValidationError('a PEM certificate does not parse as X.509');
    }
  }
  return blocks.map((b) => toPem(b.der, 'CERTIFICATE'));
}

export function toPem(der: Uint8Array, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
