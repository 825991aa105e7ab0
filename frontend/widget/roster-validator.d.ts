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

declare global {
  interface HTMLElementTagNameMap {
    'roster-validator': HTMLElement;
  }
  interface HTMLElementEventMap {
    'roster-validated': CustomEvent<RosterValidatedDetail>;
    'roster-processed': CustomEvent<Record<string, unknown>>;
    'roster-error': CustomEvent<{ message: string }>;
  }
}
