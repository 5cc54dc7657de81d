/**
 * Device labels for the factory: a QR code the owner scans to claim the device, with the serial
 * and claim code printed beside it for people. SVG for print pipelines, PNG for label printers.
 */
import { layoutLabel, type LabelInput } from './label-layout.ts';
import { renderLabelPng } from './label-png.ts';
import { renderLabelSvg } from './label-svg.ts';

export type { LabelInput } from './label-layout.ts';

export interface RenderedLabel {
  svg: string;
  png: Buffer;
}

export function renderLabel(input: LabelInput): RenderedLabel {
  const layout = layoutLabel(input);
  return { svg: renderLabelSvg(layout), png: renderLabelPng(layout) };
}
