interface Api {
  /** create a Pod
   * @param args.namespace object name and auth scope, such as for teams and projects
   * @param args.pretty If 'true', then the output is pretty printed.
   * @param args.dryRun When present, indicates that modifications should not be persisted.
   * @param args.fieldManager fieldManager is a name associated with the actor or entity that is making these changes.
   * @param args.fieldValidation fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH)…
   * POST /api/v1/namespaces/{namespace}/pods */
  createCoreV1NamespacedPod(args: { namespace: string; pretty?: string; dryRun?: string; fieldManager?: string; fieldValidation?: string; body: IoK8sApiCoreV1Pod }): Promise<IoK8sApiCoreV1Pod>;
}
/** Pod is a collection of containers that can run on a host. */
interface IoK8sApiCoreV1Pod {
  /** APIVersion defines the versioned schema of this representation of an object. */
  apiVersion?: string;
  /** Kind is a string value representing the REST resource this object represents. */
  kind?: string;
  /** Standard object's metadata. */
  metadata?: IoK8sApimachineryPkgApisMetaV1ObjectMeta;
  /** Specification of the desired behavior of the pod. */
  spec?: IoK8sApiCoreV1PodSpec;
  /** Most recently observed status of the pod. */
  status?: IoK8sApiCoreV1PodStatus;
}
/** Not expanded here (depth limit); search for these names to see them. */
type IoK8sApimachineryPkgApisMetaV1ObjectMeta = unknown; type IoK8sApiCoreV1PodSpec = unknown; type IoK8sApiCoreV1PodStatus = unknown;
