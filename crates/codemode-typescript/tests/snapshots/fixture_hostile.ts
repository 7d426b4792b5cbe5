interface Api {
  /** Ends *\/ the comment and lines declare const a: 1; /* `back${ticks}`. *\/ } interface Api { evil(): void } /* [31m \u202e reversed \ufeff
   * @param args.id Default: "*\/ x /*".
   * @deprecated
   * POST /x/{id}/*\/ declare const pwned: 1; /* */
  hostileOpFooVoid(args: { id: string; query_body?: string; "X-Header\"*/"?: "a\"b" | "c\\d" | "e\nf" | "g\u2028h" | "*/" | "${x}" | "`"; header_id?: number; body: EvilName }): Promise<Interface>;
}
/** Type *\/ declare let y: 2; /* */
interface EvilName {
  /** prop *\/ desc */
  "a b": string;
  "*/": "*/\"'`";
  constructor?: number;
  __proto__?: boolean;
  /** @format date-time *\/ @default " " */
  "1st"?: string;
  "\u2028"?: string;
  ""?: string;
}
interface Interface {
  Error?: Error_;
  Response?: Response_;
}
interface Error_ {
  message?: string;
}
interface Response_ {
  status?: number;
}
