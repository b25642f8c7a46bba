using System.Net;
using System.Text.Json.Nodes;
using NestedApic.Scenarios;

namespace NestedApic.Cli;

/// <summary>
/// A self-contained HTML timeline of a report (no network, no CDN): a lane per vCPU and level
/// (userspace, L0, L1, L2), each step a mark, the violating step highlighted, the changed fields
/// shown on hover or click; above it the verdict, policy, universe and statistics.
/// </summary>
public static class HtmlReport
{
    public static string Render(CheckReport r)
    {
        var data = CheckOutput.Json(r).ToJsonString();
        string title = WebUtility.HtmlEncode($"NestedApic: {r.Universe} under {r.Policy}");
        string verdict = WebUtility.HtmlEncode(r.Verdict + (r.Property is null ? "" : $" {r.Property} on vcpu{r.Vcpu}"));
        // "</" cannot appear inside a script element; the JSON never needs it unescaped.
        data = data.Replace("</", "<\\/");
        return $$"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{title}}</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .3em; }
  .verdict { font-weight: bold; padding: .1em .4em; border-radius: 3px; }
  .verdict.violated { background: #fdd; color: #900; } .verdict.holds { background: #dfd; color: #060; }
  .verdict.bounded, .verdict.deadlock { background: #ffd; color: #760; }
  table.stats td { padding: 0 1em 0 0; }
  #timeline { margin-top: 1em; border-collapse: collapse; }
  #timeline th { text-align: right; padding: 2px 8px; font-weight: normal; color: #555; white-space: nowrap; }
  #timeline td.cell { width: 30px; height: 22px; border-left: 1px dotted #ddd; text-align: center; }
  #timeline tr.lane:nth-child(even) { background: #f6f6f6; }
  .step { display: inline-block; width: 16px; height: 16px; border-radius: 50%; background: #48c; cursor: pointer; color: #fff; font-size: 10px; line-height: 16px; }
  .step.violation { background: #d22; box-shadow: 0 0 0 3px #fbb; }
  .step.selected { outline: 2px solid #000; }
  #details { margin-top: 1em; padding: .6em; border: 1px solid #ccc; min-height: 4em; font-family: ui-monospace, monospace; white-space: pre-wrap; }
</style>
</head>
<body>
<h1>{{title}}</h1>
<div>verdict: <span id="verdict" class="verdict {{WebUtility.HtmlEncode(r.Verdict)}}">{{verdict}}</span></div>
<table class="stats" id="stats"></table>
<table id="timeline"></table>
<div id="details">Hover or click a step to see the fields it changed.</div>
<script id="report" type="application/json">{{data}}</script>
<script>
(function () {
  const r = JSON.parse(document.getElementById('report').textContent);
  const stats = document.getElementById('stats');
  const rows = [['universe', r.universe + ' (' + r.file + ')'], ['policy', r.policy], ['vCPUs', r.vcpus],
    ['states', r.stats.states], ['transitions', r.stats.transitions], ['depth', r.stats.depth],
    ['seconds', r.stats.seconds], ['', r.verdict_line]];
  if (r.explanation) rows.push(['violation', r.explanation]);
  for (const [k, v] of rows) {
    const tr = stats.insertRow(); tr.insertCell().textContent = k; tr.insertCell().textContent = v;
  }
  const levels = { Userspace: 'user', L0: 'L0', L1: 'L1', L2: 'L2' };
  const lanes = [];
  for (let v = 0; v < r.vcpus; v++) for (const l of ['user', 'L0', 'L1', 'L2']) lanes.push('vcpu' + v + ' ' + l);
  const table = document.getElementById('timeline');
  const n = Math.max(1, r.trace.length);
  const details = document.getElementById('details');
  const show = (t, el) => {
    details.textContent = t.step + '. ' + t.event + '\n' + (t.changes.length ? t.changes.join('\n') : '(no field changed)');
    document.querySelectorAll('.step.selected').forEach(e => e.classList.remove('selected'));
    if (el) el.classList.add('selected');
  };
  for (const lane of lanes) {
    const tr = table.insertRow(); tr.className = 'lane'; tr.dataset.lane = lane;
    const th = document.createElement('th'); th.textContent = lane; tr.appendChild(th);
    for (let i = 0; i < n; i++) { const td = tr.insertCell(); td.className = 'cell'; }
  }
  r.trace.forEach((t, i) => {
    const lane = 'vcpu' + t.vcpu + ' ' + levels[t.actor];
    const tr = table.querySelector('tr[data-lane="' + lane + '"]');
    const mark = document.createElement('span');
    mark.className = 'step' + (r.verdict === 'violated' && i === r.trace.length - 1 ? ' violation' : '');
    mark.textContent = t.step; mark.title = t.event; mark.dataset.step = t.step;
    mark.addEventListener('mouseenter', () => show(t, mark));
    mark.addEventListener('click', () => show(t, mark));
    tr.cells[i + 1].appendChild(mark);
  });
  if (r.trace.length && r.verdict === 'violated') show(r.trace[r.trace.length - 1], document.querySelector('.step.violation'));
})();
</script>
</body>
</html>
""";
    }
}
