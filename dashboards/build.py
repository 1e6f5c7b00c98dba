#!/usr/bin/env python3
"""Writes the Kibana saved objects of dashboards/*.ndjson from the panels below.

Each dashboard is Lens panels over data views of the correlator's data streams and
incidents index. Run it after changing a panel: `python3 dashboards/build.py`; the test
`dashboards_use_only_mapped_fields` (tests/e2e/dashboards.rs) checks every field a panel
uses against the correlator's index templates (correlator/src/elastic/templates.rs).
"""
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent

DATA_VIEWS = {
    "gw-alerts": ("Gatewatch alerts", "logs-gatewatch.alert-*"),
    "gw-records": ("Gatewatch protocol records", "logs-gatewatch.dns-*,logs-gatewatch.http-*,logs-gatewatch.tls-*,logs-gatewatch.fileinfo-*,logs-gatewatch.flow-*"),
    "gw-stats": ("Gatewatch sensor statistics", "logs-gatewatch.stats-*"),
    "gw-incidents": ("Gatewatch incidents", "gatewatch-incidents"),
}
TIME_FIELD = {"gw-alerts": "@timestamp", "gw-records": "@timestamp", "gw-stats": "@timestamp", "gw-incidents": "@timestamp"}


def date_hist(field="@timestamp"):
    return {"label": field, "dataType": "date", "operationType": "date_histogram", "sourceField": field,
            "isBucketed": True, "scale": "interval", "params": {"interval": "auto"}}


def count(label):
    return {"label": label, "dataType": "number", "operationType": "count", "sourceField": "___records___",
            "isBucketed": False, "scale": "ratio"}


def metric(op, field, label):
    return {"label": label, "dataType": "number", "operationType": op, "sourceField": field,
            "isBucketed": False, "scale": "ratio"}


def terms(field, label, size=10, order_by="m", data_type="string"):
    return {"label": label, "dataType": data_type, "operationType": "terms", "sourceField": field,
            "isBucketed": True, "scale": "ordinal",
            "params": {"size": size, "orderBy": {"type": "column", "columnId": order_by}, "orderDirection": "desc"}}


def lens(pid, title, view, kind, columns, query=""):
    """kind: bar_stacked (x, split, m), line (x, split?, m...), table (rows..., m...), metric (m), pie (split, m)."""
    order = list(columns)
    state_layer = {"columns": columns, "columnOrder": order, "incompleteColumns": {}}
    metrics = [c for c, v in columns.items() if not v["isBucketed"]]
    buckets = [c for c, v in columns.items() if v["isBucketed"]]
    if kind in ("bar_stacked", "line"):
        x = next(c for c in buckets if columns[c]["operationType"] == "date_histogram")
        split = next((c for c in buckets if c != x), None)
        vis_type = "lnsXY"
        layer = {"layerId": "l1", "layerType": "data", "seriesType": kind, "xAccessor": x, "accessors": metrics}
        if split:
            layer["splitAccessor"] = split
        vis = {"legend": {"isVisible": True, "position": "right"}, "preferredSeriesType": kind, "layers": [layer],
               "valueLabels": "hide"}
    elif kind == "table":
        vis_type = "lnsDatatable"
        vis = {"layerId": "l1", "layerType": "data", "columns": [{"columnId": c} for c in order]}
    elif kind == "metric":
        vis_type = "lnsMetric"
        vis = {"layerId": "l1", "layerType": "data", "metricAccessor": metrics[0]}
    elif kind == "pie":
        vis_type = "lnsPie"
        vis = {"shape": "donut", "layers": [{"layerId": "l1", "layerType": "data", "primaryGroups": buckets,
                                              "metrics": metrics, "numberDisplay": "percent", "categoryDisplay": "default",
                                              "legendDisplay": "default"}]}
    else:
        raise ValueError(kind)
    return {
        "id": pid, "type": "lens", "coreMigrationVersion": "8.8.0", "typeMigrationVersion": "8.9.0",
        "attributes": {
            "title": title, "description": "", "visualizationType": vis_type,
            "state": {"datasourceStates": {"formBased": {"layers": {"l1": state_layer}}},
                      "visualization": vis, "query": {"query": query, "language": "kuery"}, "filters": [],
                      "internalReferences": [], "adHocDataViews": {}},
        },
        "references": [{"type": "index-pattern", "id": view, "name": "indexpattern-datasource-layer-l1"}],
    }


def dashboard(did, title, description, panels):
    grid, refs = [], []
    x = y = 0
    for i, (p, w, h) in enumerate(panels):
        if x + w > 48:
            x, y = 0, y + h
        pi = f"p{i + 1}"
        grid.append({"type": "lens", "gridData": {"x": x, "y": y, "w": w, "h": h, "i": pi}, "panelIndex": pi,
                     "embeddableConfig": {"enhancements": {}}, "panelRefName": f"panel_{pi}"})
        refs.append({"name": f"{pi}:panel_{pi}", "type": "lens", "id": p["id"]})
        x += w
    return {
        "id": did, "type": "dashboard", "coreMigrationVersion": "8.8.0", "typeMigrationVersion": "8.9.0",
        "attributes": {
            "title": title, "description": description, "timeRestore": False,
            "panelsJSON": json.dumps(grid, ensure_ascii=False),
            "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "hidePanelTitles": False}),
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"}, "filter": []})},
        },
        "references": refs,
    }


def data_view(vid):
    name, pattern = DATA_VIEWS[vid]
    return {"id": vid, "type": "index-pattern", "coreMigrationVersion": "8.8.0", "typeMigrationVersion": "8.0.0",
            "attributes": {"title": pattern, "name": name, "timeFieldName": TIME_FIELD[vid]}, "references": []}


SEV = terms("event.severity", "Severity (1 highest)", 4, data_type="number")
DASHBOARDS = {
    "alerts": ("gw-dashboard-alerts", "Gatewatch — alert overview",
               "Alerts from every sensor: volume by severity, rules, sources, targets, ATT&CK tactics.", [
        (lens("gw-alerts-over-time", "Alerts over time by severity", "gw-alerts", "bar_stacked",
              {"x": date_hist(), "s": SEV, "m": count("Alerts")}), 48, 14),
        (lens("gw-alerts-top-rules", "Top rules", "gw-alerts", "table",
              {"r": terms("rule.name", "Rule", 15), "c": terms("rule.category", "Category", 3), "m": count("Alerts")}), 24, 16),
        (lens("gw-alerts-top-sources", "Top sources", "gw-alerts", "table",
              {"r": terms("source.ip", "Source", 15, data_type="ip"), "m": count("Alerts")}), 12, 16),
        (lens("gw-alerts-top-targets", "Top targets", "gw-alerts", "table",
              {"r": terms("destination.ip", "Destination", 15, data_type="ip"), "m": count("Alerts")}), 12, 16),
        (lens("gw-alerts-tactics", "ATT&CK tactics", "gw-alerts", "pie",
              {"t": terms("threat.tactic.name", "Tactic", 10), "m": count("Alerts")}), 16, 14),
        (lens("gw-alerts-rsit", "RSIT classes", "gw-alerts", "pie",
              {"t": terms("gatewatch.rsit", "Class", 10), "m": count("Alerts")}), 16, 14),
        (lens("gw-alerts-succeeded", "Attacks seen to succeed", "gw-alerts", "metric",
              {"m": count("Alerts")}, query="gatewatch.succeeded : true"), 16, 14),
    ]),
    "incidents": ("gw-dashboard-incidents", "Gatewatch — incidents by agency and severity",
                  "Incidents as the correlator keeps them (updated on every change): by agency, severity, status, class.", [
        (lens("gw-inc-by-agency", "Incidents by agency and severity", "gw-incidents", "table",
              {"a": terms("gatewatch.incident.agency_name", "Agency", 40), "s": terms("gatewatch.incident.severity", "Severity", 4), "m": count("Incidents")}), 24, 18),
        (lens("gw-inc-over-time", "Incidents over time by severity", "gw-incidents", "bar_stacked",
              {"x": date_hist("gatewatch.incident.first_seen"), "s": terms("gatewatch.incident.severity", "Severity", 4), "m": count("Incidents")}), 24, 18),
        (lens("gw-inc-status", "Incidents by status", "gw-incidents", "pie",
              {"t": terms("gatewatch.incident.status", "Status", 5), "m": count("Incidents")}), 16, 14),
        (lens("gw-inc-rsit", "Incidents by RSIT class", "gw-incidents", "pie",
              {"t": terms("gatewatch.incident.rsit", "Class", 10), "m": count("Incidents")}), 16, 14),
        (lens("gw-inc-open-critical", "Open critical and high incidents", "gw-incidents", "table",
              {"r": terms("gatewatch.incident.entity", "Entity", 20), "a": terms("gatewatch.incident.agency_name", "Agency", 1),
               "m": metric("max", "gatewatch.incident.score", "Score")},
              query='gatewatch.incident.status : ("new" or "acknowledged" or "in_progress") and gatewatch.incident.severity : ("critical" or "high")'), 16, 14),
    ]),
    "sensors": ("gw-dashboard-sensors", "Gatewatch — sensor health",
                "Sensors' heartbeats (their `stats` records): packets, drops, spool, rule generation; alerts per sensor.", [
        (lens("gw-sensor-packets", "Packets received per sensor", "gw-stats", "line",
              {"x": date_hist(), "s": terms("observer.name", "Sensor", 20), "m": metric("max", "gatewatch.sensor.packets", "Packets (total)")}), 24, 14),
        (lens("gw-sensor-drops", "Drops per sensor (kernel + queue)", "gw-stats", "line",
              {"x": date_hist(), "s": terms("observer.name", "Sensor", 20), "m": metric("max", "gatewatch.sensor.kernel_drops", "Kernel drops"),
               "q": metric("max", "gatewatch.sensor.queue_drops", "Queue drops")}), 24, 14),
        (lens("gw-sensor-last", "Sensors: last heartbeat, rules, spool", "gw-stats", "table",
              {"r": terms("observer.name", "Sensor", 50, order_by="t"), "t": metric("max", "@timestamp", "Last heartbeat"),
               "g": metric("max", "gatewatch.sensor.rules_generation", "Rule generation"),
               "l": metric("max", "gatewatch.sensor.rules_loaded", "Rules loaded"),
               "b": metric("max", "gatewatch.sensor.spool_bytes", "Spool bytes")}), 24, 14),
        (lens("gw-sensor-alerts", "Alerts per sensor", "gw-alerts", "bar_stacked",
              {"x": date_hist(), "s": terms("observer.name", "Sensor", 20), "m": count("Alerts")}), 24, 14),
    ]),
    "hunting": ("gw-dashboard-hunting", "Gatewatch — DNS, HTTP and TLS hunting",
                "Protocol records: rare and frequent names, user agents, JA3, certificates, files.", [
        (lens("gw-hunt-dns", "DNS: names asked", "gw-records", "table",
              {"r": terms("dns.question.name", "Name", 25), "t": terms("dns.question.type", "Type", 3), "m": count("Queries")},
              query='event.dataset : "gatewatch.dns"'), 16, 18),
        (lens("gw-hunt-nxdomain", "DNS: NXDOMAIN by client", "gw-records", "table",
              {"r": terms("source.ip", "Client", 20, data_type="ip"), "m": count("NXDOMAIN")},
              query='event.dataset : "gatewatch.dns" and dns.response_code : "NXDOMAIN"'), 16, 18),
        (lens("gw-hunt-http-hosts", "HTTP: hosts and status", "gw-records", "table",
              {"r": terms("url.domain", "Host", 25), "s": terms("http.response.status_code", "Status", 5, data_type="number"), "m": count("Requests")},
              query='event.dataset : "gatewatch.http"'), 16, 18),
        (lens("gw-hunt-ua", "HTTP: user agents", "gw-records", "table",
              {"r": terms("user_agent.original", "User agent", 25), "m": count("Requests")},
              query='event.dataset : "gatewatch.http"'), 16, 18),
        (lens("gw-hunt-ja3", "TLS: JA3 and server names", "gw-records", "table",
              {"r": terms("tls.client.ja3", "JA3", 25), "n": terms("tls.client.server_name", "SNI", 3), "m": count("Handshakes")},
              query='event.dataset : "gatewatch.tls"'), 16, 18),
        (lens("gw-hunt-certs", "TLS: certificate issuers", "gw-records", "table",
              {"r": terms("tls.server.issuer", "Issuer", 25), "m": count("Handshakes")},
              query='event.dataset : "gatewatch.tls"'), 16, 18),
        (lens("gw-hunt-files", "Files: types and hashes", "gw-records", "table",
              {"r": terms("file.hash.sha256", "SHA-256", 25), "n": terms("file.name", "Name", 1), "t": terms("file.mime_type", "Type", 1),
               "m": count("Seen")}, query='event.dataset : "gatewatch.fileinfo"'), 48, 18),
    ]),
}


def main():
    for name, (did, title, description, panels) in DASHBOARDS.items():
        views = sorted({p["references"][0]["id"] for p, _, _ in panels})
        objects = [data_view(v) for v in views] + [p for p, _, _ in panels] + [dashboard(did, title, description, panels)]
        out = HERE / f"{name}.ndjson"
        out.write_text("".join(json.dumps(o, ensure_ascii=False, sort_keys=True) + "\n" for o in objects), encoding="utf-8")
        print(f"{out.name}: {len(objects)} objects")


if __name__ == "__main__":
    main()
