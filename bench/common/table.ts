/** A plain-text table: columns padded to their widest cell, numbers right-aligned. */
export interface Column {
  readonly header: string;
  readonly align: 'left' | 'right';
}

export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, index) => Math.max(column.header.length, ...rows.map((row) => (row[index] ?? '').length)));
  const line = (cells: readonly string[]): string => columns
    .map((column, index) => {
      const cell = cells[index] ?? '';
      return column.align === 'left' ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!);
    })
    .join('  ')
    .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(columns.map((column) => column.header)), rule, ...rows.map(line)].join('\n');
}

/** Fixed decimals with thousands separators: 12,345.6. */
export function formatNumber(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Bytes per second in MB/s (10^6 bytes). */
export function formatMegabytesPerSecond(bytesPerSecond: number): string {
  return formatNumber(bytesPerSecond / 1e6, 1);
}

/** Milliseconds with precision that suits the size. */
export function formatMs(ms: number): string {
  return formatNumber(ms, ms < 10 ? 2 : ms < 100 ? 1 : 0);
}
