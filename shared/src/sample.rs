//! A realistic sample district for the demo, the tests and the benchmarks:
//! several schools, administrators, teachers and students in classes,
//! identifiers with leading zeros, accented names and names with commas.
//! With an error rate, known damage is applied to student rows and listed,
//! each damage giving exactly one known finding.

use crate::codes::IssueCode;
use crate::csv_out::{write_row, Audience};
use crate::dictionary::{FileKind, DEMOGRAPHICS_COLUMNS, USERS_COLUMNS};

/// What sample district to make.
#[derive(Debug, Clone)]
pub struct SampleOptions {
    /// How many students (staff follow from it).
    pub students: usize,
    /// The same seed gives the same district.
    pub seed: u64,
    /// Share of student rows (and demographics rows) to damage, 0.0..=1.0.
    pub error_rate: f64,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            students: 1000,
            seed: 1,
            error_rate: 0.0,
        }
    }
}

/// One damaged cell and the finding it must produce.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Damage {
    /// The damaged file.
    pub file: FileKind,
    /// Its spreadsheet row.
    pub row: u64,
    /// The finding it must produce.
    pub code: IssueCode,
    /// The finding's column, if any.
    pub column: Option<&'static str>,
}

/// A school of the sample district.
#[derive(Debug, Clone)]
pub struct SampleSchool {
    /// Its schoolId (with leading zeros).
    pub school_id: String,
    /// Its name.
    pub name: String,
    /// Its lowest grade.
    pub low_grade: &'static str,
    /// Its highest grade.
    pub high_grade: &'static str,
}

/// A sample district: its schools and files, and the damage done.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The schools (as the server's organizations would have them).
    pub schools: Vec<SampleSchool>,
    /// users.csv, written for a person (BOM, formula guard).
    pub users_csv: Vec<u8>,
    /// demographics.csv, likewise.
    pub demographics_csv: Vec<u8>,
    /// Rows of users.csv, the header included.
    pub users_rows: u64,
    /// The damaged cells, each with its finding.
    pub damage: Vec<Damage>,
}

impl Sample {
    /// The damage list as CSV: `file,row,code,column`.
    pub fn damage_csv(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_row(
            &mut out,
            ["file", "row", "code", "column"],
            Audience::Program,
        );
        for d in &self.damage {
            let row = d.row.to_string();
            write_row(
                &mut out,
                [
                    d.file.file_name(),
                    &row,
                    d.code.as_str(),
                    d.column.unwrap_or(""),
                ],
                Audience::Program,
            );
        }
        out
    }
}

/// SplitMix64: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
}

const FIRST_NAMES: &[&str] = &[
    "José",
    "Zoë",
    "Chloé",
    "Mateo",
    "Olivia",
    "Liam",
    "Amélie",
    "Noah",
    "Søren",
    "Renée",
    "François",
    "Björn",
    "Ana María",
    "Aiyana",
    "Dmitri",
    "Fatima",
    "Kwame",
    "Mei",
    "Siobhán",
    "Ngozi",
    "Lucía",
    "Ethan",
    "Emma",
    "Aarav",
    "Hana",
    "Jürgen",
    "Leilani",
    "Omar",
    "Priya",
    "Tomás",
    "Yuki",
    "Zoltán",
    "Ava",
    "Benjamin",
    "Camila",
    "Diego",
    "Élodie",
    "Gabriel",
];
const LAST_NAMES: &[&str] = &[
    "García",
    "O'Brien",
    "Smith, Jr.",
    "Müller",
    "Nguyễn",
    "Johnson",
    "Kowalski",
    "Dubois",
    "Martínez",
    "Okafor",
    "Lee",
    "Brown",
    "Hernández",
    "Søndergaard",
    "Williams, III",
    "Papadopoulos",
    "Chen",
    "Ivanova",
    "Rodríguez",
    "Yamamoto",
    "Ali",
    "Patel",
    "Ó Súilleabháin",
    "Núñez",
    "Kim",
    "Begay",
    "Wilson",
    "Haddad",
    "Björklund",
    "Davis",
];
const SCHOOL_NAMES: &[&str] = &[
    "Maple",
    "Cedar Ridge",
    "Lakeview",
    "Riverside",
    "Oak Hill",
    "Sunnyside",
    "Pine Valley",
    "Eastgate",
    "Westwood",
    "Harbor",
    "Meadowbrook",
    "Summit",
];
const ELEMENTARY_GRADES: &[&str] = &["KG", "01", "02", "03", "04", "05"];
const MIDDLE_GRADES: &[&str] = &["06", "07", "08"];
const HIGH_GRADES: &[&str] = &["09", "10", "11", "12"];
const SECONDARY_SUBJECTS: &[&str] = &[
    "Math",
    "English",
    "Science",
    "Social Studies",
    "PE",
    "Spanish",
];
const STUDENTS_PER_SECTION: usize = 28;
const CLASSES_PER_TEACHER: usize = 5;
const STUDENTS_PER_SCHOOL: usize = 600;
const DOMAIN: &str = "maplevalley.example.org";

struct Writer {
    users: Vec<u8>,
    rows: u64,
}

impl Writer {
    fn row(&mut self, cells: &[&str]) -> u64 {
        write_row(&mut self.users, cells.iter().copied(), Audience::Program);
        self.rows += 1;
        self.rows
    }
}

/// Column indexes of users.csv, in dictionary order.
fn users_column(name: &str) -> usize {
    USERS_COLUMNS
        .iter()
        .position(|c| c.name == name)
        .unwrap_or(0)
}

/// Generates a sample district.
pub fn generate(options: &SampleOptions) -> Sample {
    let mut rng = Rng(options.seed ^ 0x5EED);
    let school_count = options.students.div_ceil(STUDENTS_PER_SCHOOL).max(3);
    let mut schools = Vec::new();
    for i in 0..school_count {
        let (kind, low, high) = match i % 3 {
            0 => ("Elementary", "KG", "05"),
            1 => ("Middle", "06", "08"),
            _ => ("High", "09", "12"),
        };
        let base = SCHOOL_NAMES[i % SCHOOL_NAMES.len()];
        let name = if i < SCHOOL_NAMES.len() {
            format!("{base} {kind} School")
        } else {
            format!("{base} {kind} School {}", i / SCHOOL_NAMES.len() + 1)
        };
        schools.push(SampleSchool {
            school_id: format!("{:04}", i + 1),
            name,
            low_grade: low,
            high_grade: high,
        });
    }

    let mut writer = Writer {
        users: Vec::with_capacity(options.students * 4 * 120),
        rows: 1,
    };
    write_row(
        &mut writer.users,
        USERS_COLUMNS.iter().map(|c| c.name),
        Audience::Program,
    );
    let mut demographics = Vec::with_capacity(options.students * 80);
    write_row(
        &mut demographics,
        DEMOGRAPHICS_COLUMNS.iter().map(|c| c.name),
        Audience::Program,
    );
    let mut demographics_row = 1u64;
    let mut damage = Vec::new();
    let mut next_student = 1usize;
    let mut next_teacher = 1usize;

    for (index, school) in schools.iter().enumerate() {
        let sid = school.school_id.as_str();
        // One administrator per school, and two district administrators in the first.
        let admins = if index == 0 { 3 } else { 1 };
        for a in 0..admins {
            let id = format!("A{:03}{}", index + 1, a);
            let email = format!("admin{:03}{}@{DOMAIN}", index + 1, a);
            let (first, last) = (rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES));
            writer.row(&[
                "",
                sid,
                &id,
                "administrator",
                first,
                last,
                &email,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ]);
        }

        // This school's share of the students.
        let remaining_schools = school_count - index;
        let remaining_students = options.students + 1 - next_student;
        let students_here = remaining_students.div_ceil(remaining_schools);
        let grades = match index % 3 {
            0 => ELEMENTARY_GRADES,
            1 => MIDDLE_GRADES,
            _ => HIGH_GRADES,
        };
        let subjects: &[&str] = if index % 3 == 0 {
            &["Homeroom"]
        } else {
            SECONDARY_SUBJECTS
        };
        for (g, grade) in grades.iter().enumerate() {
            let in_grade =
                students_here / grades.len() + usize::from(g < students_here % grades.len());
            if in_grade == 0 {
                continue;
            }
            let sections = in_grade.div_ceil(STUDENTS_PER_SECTION);
            // Classes of this grade: (classId, className, displayName).
            let mut classes = Vec::new();
            for subject in subjects {
                for section in 1..=sections {
                    let code: String = subject
                        .chars()
                        .filter(char::is_ascii_alphabetic)
                        .take(4)
                        .collect::<String>()
                        .to_uppercase();
                    let class_id = format!("{sid}-{grade}-{code}-{section}");
                    let name = format!("{subject} {grade}, section {section}");
                    let display = if section % 2 == 0 {
                        format!("{subject} {grade}")
                    } else {
                        String::new()
                    };
                    classes.push((class_id, name, display));
                }
            }
            // Teachers: each teaches up to CLASSES_PER_TEACHER of the grade's classes.
            for chunk in classes.chunks(CLASSES_PER_TEACHER) {
                let id = format!("T{next_teacher:05}");
                next_teacher += 1;
                let (first, last) = (rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES));
                let email = format!("t{:05}@{DOMAIN}", next_teacher - 1);
                for (class_id, name, display) in chunk {
                    writer.row(&[
                        "", sid, &id, "teacher", first, last, &email, "", "", "", class_id, name,
                        grade, display, "TRUE",
                    ]);
                }
            }
            // Students: one section per subject, the same section number throughout.
            for s in 0..in_grade {
                let number = next_student;
                next_student += 1;
                let user_id = format!("{number:06}");
                let district_id = format!("D{number:07}");
                let state_id = format!("{}", 1_000_000_000u64 + number as u64 * 7);
                let email = format!("s{user_id}@students.{DOMAIN}");
                let (first, last) = (rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES));
                let section = s / STUDENTS_PER_SECTION;
                for subject_index in 0..subjects.len() {
                    let (class_id, name, display) = &classes[subject_index * sections + section];
                    let mut cells: Vec<String> = [
                        "",
                        sid,
                        &user_id,
                        "student",
                        first,
                        last,
                        &email,
                        grade,
                        &district_id,
                        &state_id,
                        class_id,
                        name,
                        grade,
                        display,
                        "",
                    ]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                    let row = writer.rows + 1;
                    if rng.chance(options.error_rate) {
                        damage.push(damage_users_row(&mut rng, &mut cells, row));
                    }
                    let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
                    if damage
                        .last()
                        .is_some_and(|d| d.row == row && d.code == IssueCode::MissingCell)
                    {
                        writer.row(&cells[..cells.len() - 1]);
                    } else {
                        writer.row(&cells);
                    }
                }
                demographics_row += 1;
                let mut cells = demographics_cells(&mut rng, &user_id);
                if rng.chance(options.error_rate) {
                    damage.push(damage_demographics_row(
                        &mut rng,
                        &mut cells,
                        demographics_row,
                    ));
                }
                write_row(
                    &mut demographics,
                    cells.iter().map(String::as_str),
                    Audience::Program,
                );
            }
        }
    }
    damage.sort();
    Sample {
        schools,
        users_csv: writer.users,
        demographics_csv: demographics,
        users_rows: writer.rows,
        damage,
    }
}

fn demographics_cells(rng: &mut Rng, user_id: &str) -> Vec<String> {
    let year = 2008 + rng.below(12);
    let boolean = |rng: &mut Rng, p: usize| if rng.below(100) < p { "TRUE" } else { "FALSE" };
    let mut cells = vec![
        user_id.to_string(),
        format!("{year}-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
        rng.pick(&["male", "female", "other", "unspecified"])
            .to_string(),
    ];
    for p in [2, 6, 14, 1, 55, 4, 25, 12, 13, 8, 10, 2, 3] {
        cells.push(boolean(rng, p).to_string());
    }
    cells.push(rng.pick(&["free", "reduced", "paid", "other"]).to_string());
    cells.push(
        rng.pick(&["en", "es", "vi", "zh", "ar", "spa", "so"])
            .to_string(),
    );
    cells
}

/// Damages one student row so that it gets exactly one finding, of a known code.
fn damage_users_row(rng: &mut Rng, cells: &mut [String], row: u64) -> Damage {
    let kinds: &[(IssueCode, &str)] = &[
        (IssueCode::InvalidEmail, "userEmail"),
        (IssueCode::MissingValue, "userLastName"),
        (IssueCode::InvalidGrade, "userGrade"),
        (IssueCode::ExcelScientificNotation, "userStateId"),
        (IssueCode::InvalidName, "userFirstName"),
        (IssueCode::InvalidRole, "userRole"),
        (IssueCode::InvalidId, "classId"),
        (IssueCode::MissingCell, ""),
    ];
    let (code, column) = *rng.pick(kinds);
    if !column.is_empty() {
        let cell = &mut cells[users_column(column)];
        *cell = match code {
            IssueCode::InvalidEmail => cell.replace('@', " at "),
            IssueCode::MissingValue => String::new(),
            IssueCode::InvalidGrade => format!("Grade {cell}"),
            IssueCode::ExcelScientificNotation => {
                format!("{}.{}E+09", &cell[..1], &cell[1..6])
            }
            IssueCode::InvalidName => format!("={cell}"),
            IssueCode::InvalidRole => "pupil".to_string(),
            _ => cell.replace('-', " "),
        };
    }
    Damage {
        file: FileKind::Users,
        row,
        code,
        column: (!column.is_empty()).then_some(column),
    }
}

fn damage_demographics_row(rng: &mut Rng, cells: &mut [String], row: u64) -> Damage {
    let column_index = |name: &str| {
        DEMOGRAPHICS_COLUMNS
            .iter()
            .position(|c| c.name == name)
            .unwrap_or(0)
    };
    let (code, column, value) = *rng.pick(&[
        (IssueCode::InvalidDate, "birthDate", "31/31/2010"),
        (IssueCode::InvalidBoolean, "iep", "maybe"),
        (IssueCode::InvalidValue, "freeReducedLunch", "none"),
    ]);
    cells[column_index(column)] = value.to_string();
    Damage {
        file: FileKind::Demographics,
        row,
        code,
        column: Some(column),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sample() {
        let options = SampleOptions {
            students: 200,
            seed: 7,
            error_rate: 0.1,
        };
        let a = generate(&options);
        let b = generate(&options);
        assert_eq!(a.users_csv, b.users_csv);
        assert_eq!(a.demographics_csv, b.demographics_csv);
        assert_eq!(a.damage, b.damage);
        assert!(!a.damage.is_empty());
        let c = generate(&SampleOptions { seed: 8, ..options });
        assert_ne!(a.users_csv, c.users_csv);
    }
}
