interface Api {
  /** GET /things */
  listThings(): Promise<Shape[]>;
  /** Create a thing. Creates a thing. Long details follow that nobody needs to read in a declaration.
   * @param args.dry_run Validate only, without saving anything anywhere. Default: false.
   * @param args.since Format: date-time.
   * POST /things */
  createThing(args: { dry_run?: boolean; since?: string; body: Omit<Thing, "id" | "created"> }): Promise<Omit<Thing, "password">>;
  /** @param args.id Format: int64.
   * DELETE /things/{id} */
  deleteThing(args: { id: number }): Promise<null>;
  /** GET /things/{id}/raw */
  downloadThing(args: { id: number }): Promise<BinaryResponse>;
  /** PUT /things/{id}/raw */
  uploadThing(args: { id: number; body?: Binary | string }): Promise<string>;
}
type Shape = Circle & { kind: "circle" } | Square & { kind: "square" };
interface Thing {
  /** @format int64 */
  readonly id?: number;
  password: string;
  /** Display name. */
  name: string | null;
  kind?: "a" | "b" | 3 | true | null;
  version?: 2;
  /** @format date-time */
  readonly created?: string;
  /** @minItems 2 */
  point?: [number, number];
  labels?: { [key: string]: string };
  extra?: { a?: number } & { [key: string]: string };
  open?: { a?: number; [key: string]: unknown };
  shape?: Shape;
  tags?: (string | number)[];
  /** @default 3 @deprecated */
  retries?: number;
  anything?: unknown;
  nothing?: never;
}
type Circle = Base & { radius?: number };
type Square = Base & { side?: number };
interface Base {
  kind: string;
}
/** Bytes to send: `data` is text, or base64 if `encoding: "base64"` (default "utf8"); `{ base64 }` is short for that; `filename` names a multipart file. */
type Binary = { data: string; encoding?: "utf8" | "base64"; filename?: string; contentType?: string } | { base64: string; filename?: string; contentType?: string };
/** Bytes received (no base64 when truncated); one with base64 can be sent on as a Binary. */
interface BinaryResponse { contentType: string; size: number; base64?: string; truncated?: true }
