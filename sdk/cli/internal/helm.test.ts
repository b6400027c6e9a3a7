import { load, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from './bundle.js';
import { chartFiles } from './helm.js';
import type { Project } from './project.js';

const project = { dir: '/nowhere', file: { name: 'op', namespace: 'op-system' } } as Project;

const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'op-system' } },
  {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'things.example.com' },
    spec: {
      versions: [
        { name: 'v1', schema: { openAPIV3Schema: { description: 'a {{ template }} in text, and op-system' } } },
      ],
    },
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'op-manager-rolebinding' },
    subjects: [{ kind: 'ServiceAccount', name: 'op-controller-manager', namespace: 'op-system' }],
  },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'op-controller-manager', namespace: 'op-system' },
    spec: {
      replicas: 2,
      template: {
        spec: {
          containers: [
            {
              name: 'manager',
              image: 'registry:5000/op:latest',
              args: ['--leader-elect', '--metrics-bind-address=:8443'],
              resources: { limits: { cpu: '1' } },
            },
          ],
        },
      },
    },
  },
];

describe('chartFiles', () => {
  const files = chartFiles(project, { objects, optional: {} }, '1.2.3');

  it('writes Chart.yaml with the version, and values from the Deployment', () => {
    expect(load(files.get('Chart.yaml')!)).toEqual(
      expect.objectContaining({ apiVersion: 'v2', name: 'op', version: '1.2.3', appVersion: '1.2.3' }),
    );
    expect(load(files.get('values.yaml')!)).toMatchObject({
      manager: {
        image: { repository: 'registry:5000/op', tag: '' },
        replicas: 2,
        resources: { limits: { cpu: '1' } },
        leaderElection: { enable: true },
      },
      metrics: { enable: true, secure: true },
      crd: { enable: true },
    });
    expect(load(files.get('values.yaml')!)).not.toHaveProperty('certManager');
  });

  it("leaves the Namespace out and moves namespaced references to the release's namespace; CRDs are kept and their text escaped", () => {
    expect([...files.keys()].some((f) => f.includes('namespace-'))).toBe(false);
    const binding = files.get('templates/rbac/clusterrolebinding-op-manager-rolebinding.yaml')!;
    expect(binding).toContain('namespace: {{ .Release.Namespace }}');
    const crd = files.get('templates/crd/customresourcedefinition-things.example.com.yaml')!;
    expect(crd).toMatch(/^\{\{- if \.Values\.crd\.enable \}\}$/m);
    expect(crd).toContain('helm.sh/resource-policy: keep');
    expect(crd).toContain('description: a {{ "{{" }} template }} in text, and op-system');
  });

  it('templates the Deployment: replicas, image, resources, leader election and metrics from the values', () => {
    const text = files.get('templates/manager/deployment-op-controller-manager.yaml')!;
    expect(text).toContain('replicas: {{ .Values.manager.replicas }}');
    expect(text).toContain(
      'image: "{{ .Values.manager.image.repository }}:{{ .Values.manager.image.tag | default .Chart.AppVersion }}"',
    );
    expect(text).toMatch(/^ +resources:\n +\{\{- toYaml \.Values\.manager\.resources \| nindent 12 \}\}$/m);
    expect(text).toContain('- "--metrics-bind-address={{ if .Values.metrics.enable }}:8443{{ else }}0{{ end }}"');
    expect(text).toContain('value: {{ .Values.manager.leaderElection.enable | quote }}');
    expect(text).not.toContain('--leader-elect\n');
    // What is left once the Helm actions are taken out is plain YAML.
    const plain = text.replace(/\{\{[^}]*\}\}/g, 'x');
    expect(loadAll(plain).filter(Boolean)).toHaveLength(1);
  });

  it("moves the webhooks' Service, certificate and provisioner options to the release's namespace, behind certManager.enable", () => {
    const webhookObjects: KubeObject[] = [
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: 'op-serving-cert', namespace: 'op-system' },
        spec: { dnsNames: ['op-webhook-service.op-system.svc'] },
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: {
          name: 'op-mutating',
          annotations: { 'cert-manager.io/inject-ca-from': 'op-system/op-serving-cert' },
        },
        webhooks: [
          {
            name: 'm.example.com',
            clientConfig: { service: { name: 'op-webhook-service', namespace: 'op-system', path: '/mutate' } },
          },
        ],
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'op-controller-manager', namespace: 'op-system' },
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'manager',
                  image: 'op',
                  env: [
                    {
                      name: 'WEBHOOK_CERT_PROVISIONER',
                      value: '{"namespace":"op-system","service":"op-webhook-service"}',
                    },
                  ],
                },
              ],
            },
          },
        },
      },
    ];
    const chart = chartFiles(project, { objects: webhookObjects, optional: {} }, '0.1.0');
    const certificate = chart.get('templates/certmanager/certificate-op-serving-cert.yaml')!;
    expect(certificate).toMatch(/^\{\{- if \.Values\.certManager\.enable \}\}$/m);
    expect(certificate).toContain('- op-webhook-service.{{ .Release.Namespace }}.svc');
    const mutating = chart.get('templates/webhook/mutatingwebhookconfiguration-op-mutating.yaml')!;
    expect(mutating).toContain('cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/op-serving-cert');
    expect(mutating).toContain('namespace: {{ .Release.Namespace }}');
    expect(chart.get('templates/manager/deployment-op-controller-manager.yaml')).toContain(
      `value: '{"namespace":"{{ .Release.Namespace }}","service":"op-webhook-service"}'`,
    );
    expect(load(chart.get('values.yaml')!)).toMatchObject({ certManager: { enable: true } });
  });

  it('scrapes with the ServiceMonitor the way metrics.secure serves, behind prometheus.enable', () => {
    const monitor: KubeObject = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'op-monitor', namespace: 'op-system' },
      spec: { endpoints: [{ port: 'https', scheme: 'https', path: '/metrics' }] },
    };
    const chart = chartFiles(project, { objects, optional: { prometheus: [monitor] } }, '0.1.0');
    const text = chart.get('templates/prometheus/servicemonitor-op-monitor.yaml')!;
    expect(text).toMatch(/^\{\{- if \.Values\.prometheus\.enable \}\}$/m);
    expect(text).toContain('scheme: {{ if .Values.metrics.secure }}https{{ else }}http{{ end }}');
    expect(text).toContain('namespace: {{ .Release.Namespace }}');
  });
});
