/**
 * How keys and values are printed and parsed on the command line: as UTF-8 text (unprintable bytes
 * escaped), as hex, or as JSON strings.
 *
 * @module
 */
import { UsageError } from "./open.ts";

export type Encoding = "utf8" | "hex" | "json";
export const ENCODINGS: readonly Encoding[] = ["utf8", "hex", "json"];

const utf8 = new TextDecoder("utf-8", { fatal: false });

export function checkEncoding(name: string, what: string): Encoding {
  if (!(ENCODINGS as readonly string[]).includes(name)) throw new UsageError(`${what} must be one of ${ENCODINGS.join(", ")}, got "${name}"`);
  return name as Encoding;
}

/** Bytes as the encoding shows them. */
export function formatBytes(bytes: Uint8Array, encoding: Encoding): string {
  switch (encoding) {
    case "hex":
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
    case "json":
      return JSON.stringify(utf8.decode(bytes));
    case "utf8":
      // Control characters would garble a terminal line: shown escaped, as JSON does.
      return utf8.decode(bytes).replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  }
}

/** A key given on the command line, in `encoding` (`json`: a JSON string). */
export function parseKey(text: string, encoding: Encoding): Uint8Array {
  switch (encoding) {
    case "hex":
      if (!/^([0-9a-fA-F]{2})+$/.test(text)) throw new UsageError(`"${text}" is not hex (an even number of 0-9a-f digits)`);
      return new Uint8Array(Buffer.from(text, "hex"));
    case "json": {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new UsageError(`"${text}" is not a JSON string`);
      }
      if (typeof parsed !== "string") throw new UsageError(`"${text}" is not a JSON string`);
      return new TextEncoder().encode(parsed);
    }
    case "utf8":
      return new TextEncoder().encode(text);
  }
}

/** A byte count for people. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
