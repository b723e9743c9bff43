import { ModelNotFoundError } from "../errors.js";

/**
 * TF Serving's version labels (`stable`, `canary`): per model, each label names one served version,
 * and `/v1/models/NAME/labels/LABEL` routes to it. A reload replaces the whole table at once, so no
 * request sees half of a switch.
 */
export class VersionLabels {
  private table = new Map<string, ReadonlyMap<string, number>>();

  /** The version `label` names for `name`. @throws {ModelNotFoundError} for a label it does not have. */
  version(name: string, label: string): number {
    const version = this.table.get(name)?.get(label);
    if (version === undefined) throw new ModelNotFoundError(name, null, `no version is labelled ${JSON.stringify(label)}`);
    return version;
  }

  /** `name`'s labels, label → version. */
  of(name: string): Record<string, number> {
    return Object.fromEntries(this.table.get(name) ?? []);
  }

  /** Every label of every model, replaced together. */
  replace(table: ReadonlyMap<string, ReadonlyMap<string, number>>): void {
    this.table = new Map(table);
  }
}
