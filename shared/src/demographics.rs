//! The demographics.csv passes: one row per student, keyed by userId, which
//! must be a student of the accompanying users.csv.

use rustc_hash::FxHashMap;

use crate::cells;
use crate::codes::IssueCode;
use crate::dictionary::{ColumnSpec, Field, FileKind};
use crate::header::Layout;
use crate::reader::Record;
use crate::records::{DemographicsRecord, DemographicsValues, Role};
use crate::report::Finding;
use crate::sink::Sink;

const FILE: FileKind = FileKind::Demographics;

#[derive(Debug)]
pub(crate) struct DemographicsPass {
    columns: Vec<&'static ColumnSpec>,
    user_id_position: usize,
    /// Clean rows: (row, record).
    records: Vec<(u64, DemographicsRecord)>,
    first_row_of: FxHashMap<Box<str>, u64>,
}

impl DemographicsPass {
    pub fn new(layout: &Layout) -> Self {
        DemographicsPass {
            columns: layout.columns.clone(),
            user_id_position: layout.position(Field::UserId).unwrap_or(0),
            records: Vec::new(),
            first_row_of: FxHashMap::default(),
        }
    }

    pub fn check_row(&mut self, record: &Record<'_>, sink: &mut Sink) {
        let mut has_error = false;
        let mut values = DemographicsValues::with_capacity(self.columns.len().saturating_sub(1));
        for (position, spec) in self.columns.iter().enumerate() {
            // userId is the record's key, not one of its values.
            let is_value = position != self.user_id_position;
            let value = cells::cell_value(record.field(position));
            if value.is_empty() {
                if spec.value_required {
                    has_error = true;
                    sink.push(cells::missing_value(FILE, record.row, spec.name, ""));
                }
                if is_value {
                    values.insert(spec.name, None);
                }
                continue;
            }
            match cells::cast(spec.kind, value) {
                Ok(canonical) if is_value => {
                    values.insert(spec.name, Some(canonical));
                }
                Ok(_) => {}
                Err(problem) => {
                    has_error = true;
                    sink.push(problem.finding(FILE, record.row, spec.name, value));
                }
            }
        }
        if has_error {
            return;
        }
        values.shrink_to_fit();
        let user_id = cells::cell_value(record.field(self.user_id_position));
        if let Some(first_row) = self.first_row_of.get(user_id) {
            sink.push(
                Finding::new(IssueCode::DuplicateUser, FILE)
                    .at_row(record.row)
                    .in_column("userId")
                    .with_detail(first_row.to_string()),
            );
            return;
        }
        self.first_row_of.insert(user_id.into(), record.row);
        self.records.push((
            record.row,
            DemographicsRecord {
                user_id: user_id.to_string(),
                values,
            },
        ));
    }

    /// The rules against users.csv; returns the records of students whose
    /// users.csv rows are clean. `roles` holds every userId users.csv names
    /// (with its role where valid); `is_clean_user` tells the ones that made
    /// it into the records.
    pub fn finish(
        self,
        roles: &FxHashMap<std::sync::Arc<str>, Option<Role>>,
        is_clean_user: impl Fn(&str) -> bool,
        sink: &mut Sink,
    ) -> Vec<DemographicsRecord> {
        let mut out = Vec::with_capacity(self.records.len());
        for (row, record) in self.records {
            let finding =
                |code: IssueCode| Finding::new(code, FILE).at_row(row).in_column("userId");
            match roles.get(record.user_id.as_str()) {
                None => sink.push(finding(IssueCode::DemographicsUserNotInUsers)),
                Some(Some(role)) if *role != Role::Student => sink.push(
                    finding(IssueCode::DemographicsUserNotStudent).with_detail(role.as_str()),
                ),
                // A user whose users.csv rows have errors is held back with them.
                _ if !is_clean_user(&record.user_id) => {}
                _ => out.push(record),
            }
        }
        out
    }
}
