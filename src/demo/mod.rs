//! `credo demo`: realistic, reproducible data for newcomers and benchmarks: sales units,
//! users of every role, Chinese and English customers with contacts, and two years of
//! orders, interactions, visits, events and leads.

mod history;
mod ledger;

use std::time::Instant;

use anyhow::Context;
use credo_core::uscc::check_character;
use credo_core::{CountryCode, Currency, Email, Phone, Role, Tag, Uscc};
use credo_customers::{
    CommunicationStatus, Contact, ContactRole, CustomerKind, CustomerProfile, DecisionAuthority,
    LifecycleStage, OperatingStatus, SourceChannel,
};
use credo_store::customers::{CreateOutcome, NewCustomer};
use credo_store::{contacts, customers, units, users, Db, StoreError};
use diesel::connection::SimpleConnection;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// Password of every demo user; printed so a newcomer can log in.
pub const DEMO_PASSWORD: &str = "credo-demo-2026";

const UNITS: &[(&str, &str)] = &[
    ("SZ", "深圳办事处"),
    ("SY", "沈阳办事处"),
    ("SH", "上海办事处"),
    ("BJ", "北京办事处"),
    ("HK", "Hong Kong Office"),
];
const CITIES: &[&str] = &[
    "深圳", "沈阳", "上海", "北京", "广州", "杭州", "成都", "武汉", "青岛", "苏州",
];
const CORES: &[&str] = &[
    "华强", "恒通", "鑫源", "宏达", "中联", "远航", "金桥", "瑞丰", "天宇", "博信", "海纳", "安泰",
];
const TRADES: &[(&str, &str)] = &[
    ("机械设备", "machinery"),
    ("贸易", "trading"),
    ("建筑工程", "construction"),
    ("电子科技", "electronics"),
    ("物流", "logistics"),
    ("化工", "chemicals"),
    ("医疗器械", "medical devices"),
    ("房地产开发", "real estate"),
];
const ENGLISH: &[&str] = &[
    "Northwind",
    "Bluewater",
    "Greenfield",
    "Ironbridge",
    "Silverline",
    "Redwood",
    "Summit",
    "Harbor",
];
const ENGLISH_KINDS: &[(&str, &str)] = &[
    ("Trading", "trading"),
    ("Machinery", "machinery"),
    ("Logistics", "logistics"),
    ("Engineering", "construction"),
];
const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN: &[&str] = &["伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "艳", "军"];
const FOREIGN: &[&str] = &["DE", "US", "GB", "JP", "KR", "SG", "AE", "VN"];
const TAGS: &[&str] = &[
    "vip",
    "export",
    "key_account",
    "government",
    "project",
    "distributor",
    "new",
];
const REGION_CODES: &[&str] = &[
    "440300", "210100", "310000", "110000", "440100", "330100", "510100", "420100",
];

pub(crate) fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// One of `items`, each as likely as its weight.
fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, weight)| weight).sum();
    let mut roll = rng.random_range(0..total);
    for (item, weight) in items {
        if roll < *weight {
            return *item;
        }
        roll -= weight;
    }
    items[items.len() - 1].0
}

pub(crate) fn person_name(rng: &mut StdRng) -> String {
    format!(
        "{}{}{}",
        pick(rng, SURNAMES),
        pick(rng, GIVEN),
        if rng.random_bool(0.5) {
            pick(rng, GIVEN)
        } else {
            ""
        }
    )
}

fn random_uscc(rng: &mut StdRng) -> Uscc {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut body = b"91".to_vec();
    body.extend_from_slice(pick(rng, REGION_CODES).as_bytes());
    body.extend((0..9).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())]));
    let check = check_character(&body).expect("alphabet characters");
    Uscc::parse(&format!(
        "{}{check}",
        String::from_utf8(body).expect("ASCII")
    ))
    .expect("valid by construction")
}

fn mobile(rng: &mut StdRng) -> Phone {
    Phone::parse(&format!(
        "+86 13{} {:04} {:04}",
        rng.random_range(0..10),
        rng.random_range(0..10000),
        rng.random_range(0..10000)
    ))
    .expect("valid by construction")
}

fn profile(rng: &mut StdRng, index: usize) -> CustomerProfile {
    let stages = [
        (LifecycleStage::Lead, 15),
        (LifecycleStage::Prospect, 15),
        (LifecycleStage::Customer, 15),
        (LifecycleStage::Active, 40),
        (LifecycleStage::AtRisk, 7),
        (LifecycleStage::Lost, 5),
        (LifecycleStage::WonBack, 3),
    ];
    let lifecycle_stage = weighted(rng, &stages);
    let mut tags: Vec<Tag> = (0..rng.random_range(0..3))
        .map(|_| Tag::parse(pick::<&str>(rng, TAGS)).expect("valid"))
        .collect();
    tags.sort();
    tags.dedup();
    let person = rng.random_bool(0.15);
    let (kind, legal_name, short_name, industry, country) = if person {
        (
            CustomerKind::Person,
            person_name(rng),
            None,
            None,
            Some("CN"),
        )
    } else if rng.random_bool(0.2) {
        let (word, industry) = pick(rng, ENGLISH_KINDS);
        let name = format!("{} {word} {} Ltd.", pick(rng, ENGLISH), index);
        (
            CustomerKind::Organization,
            name,
            None,
            Some(*industry),
            Some(*pick(rng, FOREIGN)),
        )
    } else {
        let core = pick(rng, CORES);
        let (trade, industry) = pick(rng, TRADES);
        let name = format!("{}{core}{trade}有限公司{index}", pick(rng, CITIES));
        (
            CustomerKind::Organization,
            name,
            Some(format!("{core}{trade}")),
            Some(*industry),
            Some("CN"),
        )
    };
    let organization = kind == CustomerKind::Organization;
    CustomerProfile {
        kind,
        legal_name,
        short_name,
        country: country.map(|c| CountryCode::parse(c).expect("valid")),
        region: Some(pick(rng, CITIES).to_string()),
        address: Some(format!(
            "{}路{}号",
            pick(rng, CORES),
            rng.random_range(1..999)
        )),
        industry: industry.map(str::to_owned),
        main_products: industry.map(|i| format!("{i} products")),
        source_channel: Some(*pick(rng, SourceChannel::ALL)),
        communication_status: Some(*pick(rng, CommunicationStatus::ALL)),
        legal_representative: organization.then(|| person_name(rng)),
        business_manager: organization.then(|| person_name(rng)),
        phones: vec![mobile(rng)],
        emails: vec![
            Email::parse(&format!("contact{index}@customer{}.example.cn", index % 97))
                .expect("valid"),
        ],
        uscc: (organization && country == Some("CN") && rng.random_bool(0.7))
            .then(|| random_uscc(rng)),
        tax_number: None,
        bank_name: organization.then(|| "中国工商银行".to_owned()),
        bank_account: organization
            .then(|| format!("6222{:012}", rng.random_range(0..1_000_000_000_000u64))),
        operating_status: organization.then_some(OperatingStatus::Operating),
        founded_on: organization.then(|| {
            chrono::NaiveDate::from_ymd_opt(
                rng.random_range(1990..2022),
                rng.random_range(1..13),
                rng.random_range(1..29),
            )
            .expect("valid date")
        }),
        birthday: (!organization).then(|| {
            chrono::NaiveDate::from_ymd_opt(
                rng.random_range(1960..2000),
                rng.random_range(1..13),
                rng.random_range(1..29),
            )
            .expect("valid date")
        }),
        age_band: None,
        education: None,
        needs_category: None,
        tags,
        lifecycle_stage,
    }
}

fn contact(rng: &mut StdRng, primary: bool) -> Contact {
    Contact {
        name: person_name(rng),
        role: Some(*pick(rng, ContactRole::ALL)),
        title: Some(
            pick(
                rng,
                &[
                    "总经理",
                    "采购经理",
                    "财务总监",
                    "技术主管",
                    "Purchasing Manager",
                ],
            )
            .to_string(),
        ),
        phone: Some(mobile(rng)),
        email: None,
        decision_authority: Some(*pick(rng, DecisionAuthority::ALL)),
        is_primary: primary,
        notes: None,
    }
}

/// How much demo data to make.
pub struct Amounts {
    pub customers: usize,
    /// Orders in all, about: each buying customer gets its share by a Pareto draw.
    pub orders: usize,
    pub leads: usize,
}

/// Creates units and users if the database has none of them yet, then the customers with
/// their history and the leads.
/// Fills `db` with demo data; a database that has customers already is refused unless
/// `force` (demo data mixed into real data cannot be told apart later).
pub fn run(db: &Db, amounts: &Amounts, seed: u64, force: bool) -> anyhow::Result<()> {
    let existing = db.run(|conn| {
        use diesel::prelude::*;
        Ok::<_, StoreError>(
            credo_store::schema::customers::table
                .count()
                .get_result::<i64>(conn)?,
        )
    })?;
    if existing > 0 && !force {
        anyhow::bail!(
            "the database has {existing} customers already; `credo demo --force` adds demo data \
             to it anyway"
        );
    }
    let count = amounts.customers;
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let password_hash = credo_api::auth::hash_password(DEMO_PASSWORD);
    let agents = db.run(|conn| {
        let mut agents = Vec::new();
        let add_user = |conn: &mut credo_store::DbConnection,
                        username: String,
                        name: String,
                        role: Role,
                        unit: Option<Uuid>|
         -> Result<Option<Uuid>, StoreError> {
            let new = users::NewUser {
                id: Uuid::now_v7(),
                username: &username,
                display_name: &name,
                email: None,
                role,
                sales_unit_id: unit,
                password_hash: &password_hash,
            };
            Ok(match users::create(conn, &new)? {
                users::CreateOutcome::Created(user) => Some(user.id),
                users::CreateOutcome::UsernameTaken => {
                    users::find_by_username(conn, &username)?.map(|(u, _)| u.id)
                }
            })
        };
        for (code, name) in UNITS {
            let unit = match units::create(conn, Uuid::now_v7(), code, name)? {
                units::CreateOutcome::Created(unit) => unit,
                units::CreateOutcome::CodeTaken => {
                    units::find_by_code(conn, code)?.ok_or(StoreError::NotFound)?
                }
            };
            let lower = code.to_lowercase();
            add_user(
                conn,
                format!("head.{lower}"),
                format!("{name}负责人"),
                Role::UnitManager,
                Some(unit.id),
            )?;
            for n in 1..=3 {
                if let Some(id) = add_user(
                    conn,
                    format!("agent{n}.{lower}"),
                    format!("{name}客户经理{n}"),
                    Role::Agent,
                    Some(unit.id),
                )? {
                    agents.push((id, unit.id));
                }
            }
        }
        for (username, role) in [
            ("credit", Role::CreditManager),
            ("finance", Role::Finance),
            ("service", Role::Service),
            ("viewer", Role::Viewer),
        ] {
            add_user(conn, username.to_owned(), username.to_owned(), role, None)?;
        }
        Ok(agents)
    })?;
    let admin = db
        .run(|conn| users::find_by_username(conn, "admin"))?
        .map(|(u, _)| u.id)
        .context("the admin user is missing")?;
    let now = credo_store::now();
    let rates = db.run(|conn| {
        let company = credo_store::settings::company(conn)?.settings.currency;
        history::record_exchange_rates(conn, &mut rng, company, now.date_naive(), admin)
    })?;
    let mut created = 0usize;
    let catalogue = history::catalogue(&mut rng);
    // 70% of demo customers are past the prospect stage and buy.
    let mean_orders = amounts.orders as f64 / (count.max(1) as f64 * 0.7);
    let mut revenue = std::collections::HashMap::new();
    let mut counts = [0usize; 5];
    for batch_start in (0..count).step_by(500) {
        let batch: Vec<_> = (batch_start..count.min(batch_start + 500))
            .map(|i| {
                let (owner, unit) = *pick(&mut rng, &agents);
                let profile = profile(&mut rng, i);
                let people: Vec<Contact> = (0..rng.random_range(1..4))
                    .map(|n| contact(&mut rng, n == 0))
                    .collect();
                (owner, unit, profile, people)
            })
            .collect();
        db.run(|conn| {
            credo_store::write_transaction(conn, |conn| {
                let mut accounts = Vec::with_capacity(batch.len());
                for (owner, unit, mut profile, people) in batch.clone() {
                    let id = Uuid::now_v7();
                    let account = history::Account {
                        id,
                        owner_id: owner,
                        sales_unit_id: unit,
                        currency: Currency::parse(
                            if profile.country.map(|c| c.as_str() == "CN").unwrap_or(true) {
                                "CNY"
                            } else {
                                "USD"
                            },
                        )
                        .expect("valid"),
                        buys: !matches!(
                            profile.lifecycle_stage,
                            LifecycleStage::Lead | LifecycleStage::Prospect
                        ),
                        lost: profile.lifecycle_stage == LifecycleStage::Lost,
                    };
                    let mut new = NewCustomer {
                        id,
                        profile: profile.clone(),
                        owner_id: owner,
                        sales_unit_id: Some(unit),
                        actor: admin,
                    };
                    if let CreateOutcome::DuplicateUscc(_) = customers::create(conn, new)? {
                        profile.uscc = None;
                        new = NewCustomer {
                            id,
                            profile,
                            owner_id: owner,
                            sales_unit_id: Some(unit),
                            actor: admin,
                        };
                        customers::create(conn, new)?;
                    }
                    for person in people {
                        contacts::create(conn, Uuid::now_v7(), id, person, admin)?;
                    }
                    accounts.push(account);
                }
                let batch_counts = history::record_activity(
                    conn,
                    &mut rng,
                    &accounts,
                    mean_orders,
                    &catalogue,
                    now,
                    &mut revenue,
                )?;
                created += accounts.len();
                for (total, add) in counts.iter_mut().zip(batch_counts) {
                    *total += add;
                }
                Ok::<_, StoreError>(())
            })
        })?;
    }
    let mut leads = 0;
    db.run(|conn| {
        leads = history::record_leads(conn, &mut rng, &agents, amounts.leads, admin)?;
        Ok(())
    })?;
    // Fresh statistics, so the planners pick the list indexes right away (as autovacuum or
    // `PRAGMA optimize` would later).
    db.run(|conn| Ok(conn.batch_execute("ANALYZE")?))?;
    let [orders, interactions, visits, events, items] = counts;
    let top_fifth = history::top_fifth_share(&revenue)
        .map_or_else(|| "-".into(), |share| format!("{:.0}%", share * 100.0));
    println!(
        "demo: {created} customers, {orders} orders (top fifth of buyers: {top_fifth} of CNY revenue), \
         {items} receivables, {rates} exchange rates, {interactions} interactions, {visits} visits, {events} events, {leads} leads in {:.1}s; \
         users agent1.sz .. head.hk, credit, finance, service, viewer; password {DEMO_PASSWORD}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
