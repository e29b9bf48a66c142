// Schemas shared by all kinds: object metadata (for the TypeScript types only; the CRD
// declares `metadata` as a plain object) and standard status conditions.
import { Type } from '@sinclair/typebox';
import {
  CONDITION_REASON,
  CONDITION_TYPE,
  bool,
  dateTime,
  int,
  keyedList,
  list,
  obj,
  optional,
  str,
  stringEnum,
  stringMap,
} from './common.js';

export const OwnerReferenceSchema = Type.Object(
  {
    apiVersion: str('API version of the owner.'),
    kind: str('Kind of the owner.'),
    name: str('Name of the owner.'),
    uid: str('UID of the owner.'),
    controller: optional(bool('Whether the owner is the managing controller.')),
    blockOwnerDeletion: optional(bool('Whether the owner cannot be deleted before this object.')),
  },
  { description: 'A reference to an owning object.' },
);

/** The parts of metav1.ObjectMeta the operator reads; open, since the API server adds more. */
export const ObjectMetaSchema = Type.Object(
  {
    name: optional(str('Name of the object, unique within its namespace (or the cluster when cluster-scoped).')),
    generateName: optional(str('Prefix the API server completes into a unique name when name is empty.')),
    namespace: optional(str('Namespace of a namespaced object.')),
    uid: optional(str('Unique identifier the API server assigns.')),
    resourceVersion: optional(str('Opaque version used for optimistic concurrency.')),
    generation: optional(int('Sequence number of the desired state; bumped on every spec change.')),
    creationTimestamp: optional(str('When the object was created (RFC 3339).')),
    deletionTimestamp: optional(str('When deletion was requested (RFC 3339).')),
    labels: optional(stringMap('Labels for selection.', Type.String())),
    annotations: optional(stringMap('Annotations for tools.', Type.String())),
    finalizers: optional(list('Finalizers that must clear before deletion completes.', Type.String())),
    ownerReferences: optional(list('Objects this object depends on.', OwnerReferenceSchema)),
  },
  { description: 'Standard object metadata.' },
);

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

export const ConditionSchema = obj(
  'A standard status condition (metav1.Condition): one aspect of the current state.',
  {
    type: str('Type of the condition in CamelCase, such as Ready, Progressing or Degraded.', {
      maxLength: 316,
      pattern: CONDITION_TYPE,
    }),
    status: stringEnum('Status of the condition: True, False or Unknown.', CONDITION_STATUSES),
    reason: optional(
      str('Machine-readable CamelCase reason for the last transition, such as MinimumReplicasAvailable.', {
        maxLength: 1024,
        pattern: CONDITION_REASON,
      }),
    ),
    message: optional(str('Human-readable details about the last transition.', { maxLength: 32768 })),
    lastTransitionTime: optional(dateTime('When status last changed (RFC 3339); unchanged while status stays the same.')),
    observedGeneration: optional(
      int('metadata.generation the condition was computed from; older than the current generation means stale.', {
        minimum: 0,
      }),
    ),
  },
);

export function conditionsField(kind: string) {
  return keyedList(
    `Current state of the ${kind} as standard conditions, one per type (Ready, Progressing, Degraded, ...).`,
    'type',
    ConditionSchema,
    { maxItems: 32 },
  );
}

export function observedGenerationField(kind: string) {
  return int(`metadata.generation of the ${kind} that the operator last reconciled.`, { minimum: 0 });
}
