/** The report `rostergate validate --format json` prints. */
export interface RosterReport {
  valid: boolean;
  findings: Array<{
    code: string;
    severity: 'error' | 'warning';
    file: 'users.csv' | 'demographics.csv';
    row: number | null;
    column: string | null;
    message: string;
    howToFix: string;
  }>;
  stats: Record<string, unknown>;
}

export interface ValidateOptions {
  demographics?: File | null;
  /** Known school IDs: adds the unknown-school check. */
  schools?: string[] | null;
}

export declare const RosterValidator: {
  validate(users: File, options?: ValidateOptions): Promise<RosterReport>;
};

/** detail of the roster-validated event: counts only, no personal values. */
export interface RosterValidatedDetail {
  valid: boolean;
  headerAccepted: boolean;
  rows: number;
  validRows: number;
  heldBackRows: number;
  errors: number;
  warnings: number;
  byCode: Record<string, number>;
  records: Record<string, number>;
}

/**
 * The element's attributes (all strings):
 * - `endpoint`: the RosterGate server; without it the element only validates.
 * - `session`: an upload session (`rgs_…`) the host's server minted with
 *   `POST /api/embed/sessions` for a person it has signed in: one upload,
 *   from this page's origin, for up to an hour. Read again for each upload.
 * - `schools`: known school IDs, comma-separated (the unknown-school check).
 *
 * Embed tokens stay on the host's server: a `token` attribute is refused
 * (an error and `roster-error`), and never sent.
 */
export interface RosterValidatorAttributes {
  endpoint?: string;
  session?: string;
  schools?: string;
}

export interface RosterValidatorElement extends HTMLElement {}

declare global {
  interface HTMLElementTagNameMap {
    'roster-validator': RosterValidatorElement;
  }
  interface HTMLElementEventMap {
    'roster-validated': CustomEvent<RosterValidatedDetail>;
    'roster-processed': CustomEvent<Record<string, unknown>>;
    'roster-error': CustomEvent<{ message: string }>;
  }
}
