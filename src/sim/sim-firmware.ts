/**
 * Firmware for simulated devices: deterministic images per (model, version) that share most of
 * their bytes across versions (so the server's bsdiff deltas are small, as between real
 * releases), and the simulator's stand-in for an application that fails after an update: an
 * image containing UNHEALTHY_MARKER fails its post-boot health check; one containing
 * ERROR_RATE_MARKER boots and passes its health checks but reports ERROR_RATE_FACTOR times the
 * errors (what a rollout's health-regression gate must catch).
 */
import { createHash } from 'node:crypto';

/** Size of a simulated image in bytes (small: thousands of simulated devices each keep two slots). */
export const SIM_IMAGE_BYTES = 64 * 1024;

/** Put this anywhere in an image to make it fail the simulated health check after boot. */
export const UNHEALTHY_MARKER = 'FLOTILLA-SIM-UNHEALTHY';

/** Put this anywhere in an image to make the simulated application report ERROR_RATE_FACTOR × the errors. */
export const ERROR_RATE_MARKER = 'FLOTILLA-SIM-ERROR-RATE';
export const ERROR_RATE_FACTOR = 10;

/** Pseudo-random bytes from sha256 in counter mode: the same seed gives the same bytes. */
function seededBytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0, block = 0; offset < length; block++) {
    const digest = createHash('sha256').update(`${seed}:${block}`).digest();
    offset += digest.copy(out, offset);
  }
  return out;
}

/**
 * The image a simulated device of `model` runs at `version`: a model-wide base with a header and
 * about 1 % of its bytes changed per version. Pure.
 */
export function simulatedImage(
  model: string,
  version: string,
  options: { unhealthy?: boolean; errorProne?: boolean; bytes?: number } = {},
): Buffer {
  const image = seededBytes(`model:${model}`, options.bytes ?? SIM_IMAGE_BYTES);
  const edits = seededBytes(`release:${model}@${version}`, 4 * Math.ceil(image.length / 400));
  for (let i = 0; i + 3 < edits.length; i += 4) {
    const position = edits.readUInt32BE(i) % image.length;
    image[position] = (edits[i + 3] ?? 0) ^ 0x5a;
  }
  const markers = [
    ...(options.unhealthy ? [UNHEALTHY_MARKER] : []),
    ...(options.errorProne ? [ERROR_RATE_MARKER] : []),
  ];
  const header = Buffer.from(
    `FLOTILLA-SIM-IMAGE ${model} ${version}\n${markers.map((m) => `${m}\n`).join('')}`,
  );
  header.copy(image, 0);
  return image;
}

/** What the simulated application checks after an update boots. Pure. */
export function isHealthyImage(image: Uint8Array): boolean {
  return !Buffer.from(image.buffer, image.byteOffset, image.byteLength).includes(UNHEALTHY_MARKER);
}

/** How many times the base error rate the simulated application reports with this image. Pure. */
export function errorRateFactor(image: Uint8Array): number {
  return Buffer.from(image.buffer, image.byteOffset, image.byteLength).includes(ERROR_RATE_MARKER)
    ? ERROR_RATE_FACTOR
    : 1;
}
