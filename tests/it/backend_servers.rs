//! The backend test servers themselves (tests/it/common/{graphite,influxdb,cloudwatch}.rs):
//! each starts on loopback, stores what it is sent and gives it back; moto in IAM mode
//! refuses a request whose SigV4 signature is wrong, so the CloudWatch tests exercise our
//! signer against botocore's, not a server that accepts anything.

use crate::common;

use common::cloudwatch::Moto;
use common::graphite::Graphite;
use common::influxdb::InfluxDb;

#[test]
fn graphite_stores_and_renders() {
    let g = Graphite::shared();
    eprintln!(
        "graphite (carbon-cache + graphite-web) started in {:?}",
        g.started_in
    );
    let p = g.prefix();
    let now = chrono::Utc::now().timestamp();
    g.send(&[(&format!("{p}.x"), 4.5, now - 2)]);
    g.wait_for(&format!("{p}.x"));
}

#[test]
fn influxdb_stores_and_queries_with_auth() {
    let i = InfluxDb::shared();
    eprintln!("influxd started in {:?}", i.started_in);
    let db = i.database();
    i.write(&db, "m,host=a v=2.5");
    let r = i.query(&format!("SELECT last(v) FROM {db}..m"));
    assert_eq!(r["results"][0]["series"][0]["values"][0][1], 2.5, "{r}");
    let (status, _) = common::influxdb::request(
        i.port,
        "GET",
        "/query?q=SHOW+DATABASES&u=vzadmin&p=wrong",
        "",
    )
    .unwrap();
    assert_eq!(status, 401);
}

#[test]
fn moto_checks_signatures() {
    let m = Moto::shared();
    eprintln!("moto_server started in {:?}", m.started_in);
    let ns = m.namespace();
    let now = chrono::Utc::now().timestamp();
    m.put(&ns, &[("Errors", &[("Service", "api")], 3.0, now - 5)]);
    let (status, body) = m.call(
        "GetMetricData",
        &serde_json::json!({"MetricDataQueries": [{"Id": "m0", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Errors", "Dimensions": [{"Name": "Service", "Value": "api"}]}, "Period": 1, "Stat": "Average"}}], "StartTime": now - 60, "EndTime": now + 1}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("3.0"), "{body}");
    // The same call with a wrong secret: moto recomputes the signature and refuses it.
    let (status, body) = m.call_as(
        &m.access_key_id,
        "not-the-secret",
        "ListMetrics",
        &serde_json::json!({"Namespace": ns}),
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
}
