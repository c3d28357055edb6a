import type { Identity } from '../../src/core/identity.js';

/** The names of Knative's helloworld-go sample, which the Go anchor reporter also uses. */
export const HELLOWORLD: Identity = {
  namespace: 'default',
  config: 'helloworld-go',
  revision: 'helloworld-go-00001',
  pod: 'helloworld-go-00001-deployment-abc',
};

/** The `destination_*` attributes of {@link HELLOWORLD}, in the alphabetical order every series carries them. */
export const HELLOWORLD_ATTRIBUTES = {
  destination_configuration: 'helloworld-go',
  destination_namespace: 'default',
  destination_pod: 'helloworld-go-00001-deployment-abc',
  destination_revision: 'helloworld-go-00001',
};

/** The Resource attributes buildResource derives from {@link HELLOWORLD} (SDK attributes aside). */
export const HELLOWORLD_RESOURCE = {
  'service.name': 'helloworld-go',
  'service.instance.id': 'helloworld-go-00001-deployment-abc',
  'k8s.namespace.name': 'default',
  'k8s.pod.name': 'helloworld-go-00001-deployment-abc',
  'kn.configuration.name': 'helloworld-go',
  'kn.revision.name': 'helloworld-go-00001',
};
