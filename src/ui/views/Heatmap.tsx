/**
 * A labelled heatmap on canvas: rows × columns, viridis colour (perceptually uniform, colour-blind safe),
 * optional outlined cells (the indexer's picks, the router's experts), an optional bar per row at the
 * right, a colour legend, and PNG/CSV export. The drawn numbers are published on `data-*` attributes and
 * `window.__sparsescope.heatmaps[testId]` so tests compare data, not pixels.
 */
import { useEffect, useRef, useState } from 'react';
import { interpolateViridis } from 'd3-scale-chromatic';
import { publishHeatmap } from '../lib/test-hook.ts';

export interface HeatmapProps {
  testId: string;
  title: string;
  xLabel: string;
  yLabel: string;
  /** values[r][c]; a row may be shorter than `colLabels` (causal: keys after the query are empty). */
  values: number[][];
  rowLabels: string[];
  colLabels: string[];
  outlined?: number[][];
  normalize?: 'row' | 'global';
  highlightRow?: number;
  side?: { label: string; values: number[] };
  maxWidth?: number;
}

const LEFT = 110;
const TOP = 74;
const SIDE = 70;

const clean = (s: string) => s.replace(/\s+/g, ' ').trim().slice(0, 14) || '␣';

export function Heatmap(p: HeatmapProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<string>('');
  const cols = p.colLabels.length;
  const maxW = p.maxWidth ?? 640;
  const cell = Math.max(3, Math.min(22, Math.floor((maxW - LEFT - (p.side ? SIDE : 0)) / Math.max(1, cols))));
  const width = LEFT + cols * cell + (p.side ? SIDE : 0) + 8;
  const height = TOP + p.values.length * cell + 8;
  const labelEvery = Math.ceil(11 / cell);

  useEffect(() => {
    publishHeatmap(p.testId, { values: p.values, outlined: p.outlined, rowLabels: p.rowLabels, colLabels: p.colLabels, side: p.side?.values });
    const cv = ref.current;
    const g = cv?.getContext('2d');
    if (!cv || !g) return;
    const dpr = window.devicePixelRatio || 1;
    cv.width = width * dpr;
    cv.height = height * dpr;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = '#fff';
    g.fillRect(0, 0, width, height);
    const all = p.values.flat();
    const gmin = Math.min(0, ...all);
    const gmax = Math.max(1e-12, ...all);
    p.values.forEach((row, r) => {
      const lo = p.normalize === 'row' ? Math.min(...row) : gmin;
      const hi = p.normalize === 'row' ? Math.max(...row) : gmax;
      row.forEach((v, c) => {
        g.fillStyle = interpolateViridis(hi > lo ? (v - lo) / (hi - lo) : 0.5);
        g.fillRect(LEFT + c * cell, TOP + r * cell, cell, cell);
      });
      for (let c = row.length; c < cols; c++) {
        g.fillStyle = '#f0f0f3'; // causal mask: keys after the query
        g.fillRect(LEFT + c * cell, TOP + r * cell, cell, cell);
      }
    });
    // Outlines in white with a dark edge: visible on both ends of viridis.
    p.outlined?.forEach((cs, r) =>
      cs.forEach((c) => {
        const x = LEFT + c * cell + 0.5;
        const y = TOP + r * cell + 0.5;
        g.strokeStyle = '#000';
        g.lineWidth = 1;
        g.strokeRect(x, y, cell - 1, cell - 1);
        if (cell >= 6) {
          g.strokeStyle = '#fff';
          g.strokeRect(x + 1, y + 1, cell - 3, cell - 3);
        }
      }),
    );
    if (p.highlightRow !== undefined && p.highlightRow >= 0) {
      g.strokeStyle = '#d9480f';
      g.lineWidth = 2;
      g.strokeRect(LEFT - 2, TOP + p.highlightRow * cell, cols * cell + 4, cell);
    }
    g.fillStyle = '#333';
    g.font = '11px system-ui, sans-serif';
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    p.rowLabels.forEach((l, r) => {
      if (r % labelEvery === 0) g.fillText(clean(l), LEFT - 6, TOP + r * cell + cell / 2);
    });
    p.colLabels.forEach((l, c) => {
      if (c % labelEvery !== 0) return;
      g.save();
      g.translate(LEFT + c * cell + cell / 2, TOP - 6);
      g.rotate(-Math.PI / 3);
      g.textAlign = 'left';
      g.fillText(clean(l), 0, 0);
      g.restore();
    });
    if (p.side) {
      const x0 = LEFT + cols * cell + 8;
      g.textAlign = 'left';
      g.fillText(p.side.label, x0, TOP - 10);
      p.side.values.forEach((v, r) => {
        g.fillStyle = '#cfd4dc';
        g.fillRect(x0, TOP + r * cell + 1, SIDE - 12, Math.max(1, cell - 2));
        g.fillStyle = '#3b528b';
        g.fillRect(x0, TOP + r * cell + 1, (SIDE - 12) * Math.max(0, Math.min(1, v)), Math.max(1, cell - 2));
      });
    }
  });

  const onMove = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const c = Math.floor((e.clientX - rect.left - LEFT) / cell);
    const r = Math.floor((e.clientY - rect.top - TOP) / cell);
    const v = p.values[r]?.[c];
    if (v === undefined) return setHover('');
    const picked = p.outlined?.[r]?.includes(c) ? ' (picked)' : '';
    setHover(`${p.yLabel} "${clean(p.rowLabels[r])}" → ${p.xLabel} "${clean(p.colLabels[c])}": ${v.toPrecision(3)}${picked}`);
  };

  return (
    <figure
      className="heatmap"
      data-testid={p.testId}
      data-rows={p.values.length}
      data-cols={cols}
      data-chosen={p.outlined ? JSON.stringify(p.outlined) : undefined}
    >
      <figcaption>
        <strong>{p.title}</strong>
        <span className="axes">
          rows: {p.yLabel} · columns: {p.xLabel}
        </span>
        <span className="spacer" />
        <button onClick={() => exportPng(ref.current, p.testId)}>PNG</button>
        <button onClick={() => exportCsv(p)}>CSV</button>
      </figcaption>
      <div className="heatmap-scroll">
        <canvas ref={ref} style={{ width, height }} onMouseMove={onMove} onMouseLeave={() => setHover('')} />
      </div>
      <div className="heatmap-foot">
        <span className="legend">
          low <span className="legend-bar" /> high{p.normalize === 'row' ? ' (per row)' : ''}
        </span>
        <span className="hover-readout">{hover}</span>
      </div>
    </figure>
  );
}

function download(href: string, name: string) {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  a.click();
}

function exportPng(cv: HTMLCanvasElement | null, name: string) {
  if (cv) download(cv.toDataURL('image/png'), `${name}.png`);
}

/** Long format (row, column, value, picked): opens cleanly in any spreadsheet or pandas. */
function exportCsv(p: HeatmapProps) {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const lines = [`row,row_label,col,col_label,value,picked`];
  p.values.forEach((row, r) =>
    row.forEach((v, c) => lines.push([r, q(p.rowLabels[r]), c, q(p.colLabels[c]), v, p.outlined?.[r]?.includes(c) ? 1 : 0].join(','))),
  );
  const url = URL.createObjectURL(new Blob([lines.join('\n')], { type: 'text/csv' }));
  download(url, `${p.testId}.csv`);
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
