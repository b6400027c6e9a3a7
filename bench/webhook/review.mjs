// S9's AdmissionReview, shared by the webhook server benchmarks.

/** The AdmissionReview the API server sends for S9's dry-run create (captured from kube-apiserver v1.37.2). */
export function review(now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')) {
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: '6a4d0b4e-5c61-4f6b-9a51-0d3f3c1f2a77',
      kind: { group: '', version: 'v1', kind: 'ConfigMap' },
      resource: { group: '', version: 'v1', resource: 'configmaps' },
      requestKind: { group: '', version: 'v1', kind: 'ConfigMap' },
      requestResource: { group: '', version: 'v1', resource: 'configmaps' },
      name: 's9-1',
      namespace: 'bench-s9',
      operation: 'CREATE',
      userInfo: {
        username: 'kubeloop-admin',
        groups: ['system:masters', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${'0123456789abcdef'.repeat(4)}`] },
      },
      object: {
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: {
          name: 's9-1',
          namespace: 'bench-s9',
          uid: '2cb32c62-0ad8-40d2-b907-61d2e513217c',
          creationTimestamp: now,
          labels: { app: 'bench', shard: '1' },
          managedFields: [
            {
              manager: 'peer',
              operation: 'Update',
              apiVersion: 'v1',
              time: now,
              fieldsType: 'FieldsV1',
              fieldsV1: {
                'f:data': { '.': {}, 'f:payload': {} },
                'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:shard': {} } },
              },
            },
          ],
        },
        data: { payload: 'x'.repeat(1000) },
      },
      oldObject: null,
      dryRun: true,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', dryRun: ['All'] },
    },
  };
}
