interface Api {
  /** Get a node.
   * GET /nodes/{id} */
  getNode(args: { id: string }): Promise<Node_>;
  /** POST /exprs */
  evaluate(args: { body: Expr }): Promise<Json>;
}
interface Node_ {
  id: string;
  parent?: Node_;
  children?: Node_[];
  owner?: Owner;
}
type Expr = Sum | number;
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
interface Owner {
  nodes?: Node_[];
}
type Sum = unknown;
