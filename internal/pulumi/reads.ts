/**
 * What a mocked cluster answers to a read (`Resource.get`), by type and id, for every mock monitor
 * (tests, `nexus audit`): the `kubernetes` EndpointSlice, where the API server is. The address
 * and port are a stand-in, those of the local node's API server; a real deploy reads its cluster.
 */
const READS: Readonly<Record<string, Record<string, unknown>>> = {
  "kubernetes:discovery.k8s.io/v1:EndpointSlice::default/kubernetes": {
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.244.0.1"], conditions: { ready: true } }],
    ports: [{ name: "https", port: 6443, protocol: "TCP" }],
  },
};

/** The state of a read object, or undefined for a registration (no id) or an object nobody reads. */
export function mockRead(type: string, id: string | undefined): Record<string, unknown> | undefined {
  return id ? READS[`${type}::${id}`] : undefined;
}
