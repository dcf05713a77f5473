//! The shared back-end: PostgreSQL for a fleet of CI runners.
//!
//! Client: `tokio-postgres` (the maintained native async driver: binary protocol, prepared
//! statements, no C library), pooled by `deadpool-postgres` (a small, runtime-agnostic pool
//! that recycles a connection after a cheap check), TLS through `tokio-postgres-rustls` (the
//! same rustls stack reqwest and lettre already use here: no OpenSSL). sqlx would add a
//! second async SQL layer and compile-time query macros that need a database at build time.
//!
//! The store's interface is synchronous (the commands and observers call it between ticks),
//! so the driver runs on a small runtime of its own; a call made from inside the watch's
//! runtime is handed to a scoped helper thread, never blocking a runtime worker on itself.

use super::db::{to_dollar, Db, Lock, Row, Val};
use super::{migrations, StoreError};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, OnceLock};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

/// Connections one process keeps to the server: the watch, its audit, override and
/// notification observers share them.
const POOL_SIZE: usize = 4;
/// Advisory lock key serializing audit-chain appends (and migrations) across processes.
const CHAIN_LOCK: i64 = 0x767a_6d6f_6e69;

/// A PostgreSQL store: the process's pool for one URL, and the connection of an open
/// transaction.
pub struct PgDb {
    pool: Pool,
    tx: Option<Object>,
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("vz-store-pg")
            .enable_all()
            .build()
            .expect("cannot start the PostgreSQL client runtime")
    })
}

/// Runs `fut` to completion on the store's runtime, from async or sync code alike.
fn block<F: Future + Send>(fut: F) -> F::Output
where
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| {
            s.spawn(|| runtime().block_on(fut))
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    } else {
        runtime().block_on(fut)
    }
}

/// Runs `fut` on the store's runtime within [`super::DEADLINE`]: a server that stops
/// answering (frozen, a lost network) is an error after the deadline, never a hang.
fn within<T: Send, E: Into<StoreError> + Send, F: Future<Output = Result<T, E>> + Send>(
    fut: F,
) -> Result<T, StoreError> {
    match block(async { tokio::time::timeout(super::DEADLINE, fut).await }) {
        Ok(r) => r.map_err(Into::into),
        Err(_) => Err(StoreError::Deadline(super::DEADLINE)),
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "postgres://…".into(),
    }
}

fn tls() -> tokio_postgres_rustls::MakeRustlsConnect {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("rustls supports its default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_postgres_rustls::MakeRustlsConnect::new(config)
}

fn pool_for(url: &str) -> Result<Pool, StoreError> {
    static POOLS: OnceLock<Mutex<HashMap<String, Pool>>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(p) = pools.get(url) {
        return Ok(p.clone());
    }
    let bad = |why: String| StoreError::Connect {
        url: redact(url),
        why,
    };
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| bad(format!("{e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(10));
    }
    config.application_name("vz-monitor");
    let manager = Manager::from_config(
        config,
        tls(),
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(std::time::Duration::from_secs(30)))
        .create_timeout(Some(std::time::Duration::from_secs(10)))
        .build()
        .map_err(|e| bad(e.to_string()))?;
    pools.insert(url.to_string(), pool.clone());
    Ok(pool)
}

impl ToSql for Val {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match (self, ty) {
            (Val::Null, _) => Ok(IsNull::Yes),
            (Val::Int(v), &Type::INT8) => v.to_sql(ty, out),
            (Val::Int(v), &Type::INT4) => i32::try_from(*v)?.to_sql(ty, out),
            (Val::Int(v), &Type::INT2) => i16::try_from(*v)?.to_sql(ty, out),
            (Val::Int(v), &Type::BOOL) => (*v != 0).to_sql(ty, out),
            (Val::Int(v), &Type::FLOAT8) => (*v as f64).to_sql(ty, out),
            (Val::Int(v), _) => v.to_string().to_sql(ty, out),
            (Val::Real(v), &Type::FLOAT4) => (*v as f32).to_sql(ty, out),
            (Val::Real(v), _) => v.to_sql(ty, out),
            (Val::Text(s), _) => s.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT2
                | Type::INT4
                | Type::INT8
                | Type::BOOL
                | Type::FLOAT4
                | Type::FLOAT8
                | Type::TEXT
                | Type::VARCHAR
                | Type::BPCHAR
                | Type::NAME
                | Type::UNKNOWN
        )
    }

    to_sql_checked!();
}

fn read(row: &tokio_postgres::Row) -> Result<Row, tokio_postgres::Error> {
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let v = match *col.type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Val::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)?
                .map(|v| Val::Int(v.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)?
                .map(|v| Val::Int(v.into())),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)?
                .map(|v| Val::Int(v.into())),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Val::Real),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(i)?
                .map(|v| Val::Real(v.into())),
            Type::VOID => None,
            _ => row.try_get::<_, Option<String>>(i)?.map(Val::Text),
        };
        out.push(v.unwrap_or(Val::Null));
    }
    Ok(Row(out))
}

impl PgDb {
    /// Connects (through the process's pool for `url`) and migrates the store.
    pub fn open(url: &str) -> Result<PgDb, StoreError> {
        let mut db = PgDb {
            pool: pool_for(url)?,
            tx: None,
        };
        db.migrate(url)?;
        Ok(db)
    }

    fn migrate(&mut self, url: &str) -> Result<(), StoreError> {
        if self.schema_version()? == migrations::VERSION {
            return Ok(());
        }
        self.begin(Lock::Chain)?;
        let result =
            (|| {
                let client = self.tx.as_ref().ok_or(StoreError::NoTransaction)?;
                block(client.batch_execute(
                    "CREATE TABLE IF NOT EXISTS vz_schema (version BIGINT NOT NULL)",
                ))?;
                let version = block(client.query_opt("SELECT version FROM vz_schema", &[]))?
                    .map(|r| r.get::<_, i64>(0))
                    .unwrap_or(0);
                if version > migrations::VERSION {
                    return Err(StoreError::TooNew {
                        path: redact(url),
                        found: version,
                        known: migrations::VERSION,
                    });
                }
                for (v, sql) in migrations::POSTGRES.iter().filter(|(v, _)| *v > version) {
                    block(client.batch_execute(sql))?;
                    block(client.execute("DELETE FROM vz_schema", &[]))?;
                    block(client.execute("INSERT INTO vz_schema (version) VALUES ($1)", &[v]))?;
                }
                Ok(())
            })();
        match result {
            Ok(()) => self.commit(),
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    fn client(&self) -> Result<ClientRef<'_>, StoreError> {
        match &self.tx {
            Some(c) => Ok(ClientRef::Tx(c)),
            None => Ok(ClientRef::Pooled(Box::new(within(self.pool.get())?))),
        }
    }
}

enum ClientRef<'a> {
    Tx(&'a Object),
    Pooled(Box<Object>),
}

impl std::ops::Deref for ClientRef<'_> {
    type Target = deadpool_postgres::Client;
    fn deref(&self) -> &Self::Target {
        match self {
            ClientRef::Tx(c) => c,
            ClientRef::Pooled(c) => c,
        }
    }
}

fn refs(args: &[Val]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl Db for PgDb {
    fn exec(&self, sql: &str, args: &[Val]) -> Result<u64, StoreError> {
        let sql = to_dollar(sql);
        let client = self.client()?;
        within(async {
            let stmt = client.prepare_cached(&sql).await?;
            client.execute(&stmt, &refs(args)).await
        })
    }

    fn query(&self, sql: &str, args: &[Val]) -> Result<Vec<Row>, StoreError> {
        let sql = to_dollar(sql);
        let client = self.client()?;
        let rows = within(async {
            let stmt = client.prepare_cached(&sql).await?;
            client.query(&stmt, &refs(args)).await
        })?;
        Ok(rows.iter().map(read).collect::<Result<_, _>>()?)
    }

    fn begin(&mut self, lock: Lock) -> Result<(), StoreError> {
        let client = within(self.pool.get())?;
        within(client.batch_execute("BEGIN"))?;
        if lock == Lock::Chain {
            within(client.execute("SELECT pg_advisory_xact_lock($1)", &[&CHAIN_LOCK]))?;
        }
        self.tx = Some(client);
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        let client = self.tx.take().ok_or(StoreError::NoTransaction)?;
        within(client.batch_execute("COMMIT"))?;
        Ok(())
    }

    fn rollback(&mut self) {
        if let Some(client) = self.tx.take() {
            let _ = within(client.batch_execute("ROLLBACK"));
        }
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        let client = self.client()?;
        let rows = block(async {
            tokio::time::timeout(
                super::DEADLINE,
                client.query("SELECT version FROM vz_schema", &[]),
            )
            .await
        })
        .map_err(|_| StoreError::Deadline(super::DEADLINE))?;
        match rows {
            Ok(rows) => Ok(rows.first().map(|r| r.get::<_, i64>(0)).unwrap_or(0)),
            // The table does not exist yet: a new database.
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    fn engine(&self) -> &'static str {
        "postgres"
    }
}
