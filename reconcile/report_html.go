package reconcile

import "html/template"

// reportHTML lays the report out as circulation reports are: title and
// period, the partial banner, summary counts, then one section per part
// with its table. Long text wraps (overflow-wrap:anywhere, no fixed
// widths); below 700 px each table row becomes a stacked card whose cells
// carry their column's name (data-label); it prints without the colours.
var reportHTML = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Library fees report: {{.Period}}</title>
<style>
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1b1b1b;line-height:1.45;margin:0 auto;padding:16px;max-width:1240px}
h1{font-size:1.6rem;margin:0 0 4px}
h2{font-size:1.25rem;margin:28px 0 8px;padding-bottom:4px;border-bottom:2px solid #1b1b1b}
p{margin:4px 0}
.period{color:#3d3d3d;font-size:1.05rem}
.partial{background:#fff3cd;border:2px solid #9a6700;border-radius:6px;padding:10px 14px;margin:14px 0}
.summary{display:flex;flex-wrap:wrap;gap:8px;list-style:none;padding:0;margin:14px 0}
.summary li{flex:1 1 150px;border:1px solid #c8c8c8;border-radius:6px;padding:8px 12px;background:#fafafa}
.summary b{display:block;font-size:1.35rem}
.summary .alert{border-color:#b42318;background:#fef3f2}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #d9d9d9;overflow-wrap:break-word}
td.t{overflow-wrap:anywhere}
th{background:#eef1f4;font-weight:600;white-space:nowrap}
td.n,th.n{text-align:right;white-space:nowrap}
td.i{min-width:7em}
.key{display:block;color:#5c5c5c;font-size:.8rem;font-family:ui-monospace,Menlo,Consolas,monospace;margin-top:2px}
.none{color:#3d3d3d;font-style:italic}
.failed{color:#b42318;font-weight:600}
@media (max-width:700px){
 body{padding:10px}
 table,tbody,tr,td{display:block;width:100%}
 thead{display:none}
 tr{border:1px solid #c8c8c8;border-radius:6px;margin:0 0 10px;padding:4px 0}
 td{border:0;padding:3px 10px}
 td.n{text-align:left;white-space:normal}
 td.i{font-weight:600}
 td[data-label]::before{content:attr(data-label) ": ";font-weight:600}
 td:empty{display:none}
}
@media print{
 body{max-width:none;padding:0;font-size:10pt}
 .summary li,.partial{background:none}
 tr{break-inside:avoid}
 h2{break-after:avoid}
}
</style>
</head><body>
<header>
<h1>Library fees report</h1>
<p class="period">{{.Period}}</p>
{{if .Partial}}<p class="partial" role="alert"><strong>Partial report.</strong> {{.PartialReason}}</p>{{end}}
<ul class="summary">
<li{{if .Exceptions}} class="alert"{{end}}><b>{{.Exceptions}}</b>need staff</li>
{{range .Flowed}}<li><b>{{.Amount}}</b>{{.Item}} {{.What}}: {{.Count}}</li>
{{end}}</ul>
</header>
<main>
<section>
<h2>1. Needs staff</h2>
{{if .Staff}}<table>
<thead><tr><th>Item</th><th>What happened</th><th>What to do</th><th class="n">Amount</th></tr></thead>
<tbody>
{{range .Staff}}<tr><td class="i" data-label="Item">{{.Item}}</td><td class="t" data-label="What happened">{{.What}}{{if .Key}}<span class="key">key {{.Key}}</span>{{end}}</td><td class="t" data-label="What to do">{{.Do}}</td><td class="n" data-label="Amount">{{.Amount}}</td></tr>
{{end}}</tbody></table>
{{else}}<p class="none">Nothing needs staff.</p>{{end}}
</section>
<section>
<h2>2. What flowed</h2>
<table>
<thead><tr><th>Flow</th><th>What</th><th class="n">Records</th><th class="n">Amount</th></tr></thead>
<tbody>
{{range .Flowed}}<tr><td data-label="Flow">{{.Item}}</td><td class="t" data-label="What">{{.What}}</td><td class="n" data-label="Records">{{.Count}}</td><td class="n" data-label="Amount">{{.Amount}}</td></tr>
{{end}}</tbody></table>
</section>
{{if .Colleges}}<section>
<h2>College by college</h2>
<table>
<thead><tr><th>College</th><th class="n">Charges sent</th><th class="n">Charged</th><th class="n">Held by the bursar</th><th class="n">Disagreements</th></tr></thead>
<tbody>
{{range .Colleges}}<tr><td data-label="College">{{.College}}</td><td class="n" data-label="Charges sent">{{.Charges}}</td><td class="n" data-label="Charged">{{.Charged.Amount}}</td><td class="n" data-label="Held by the bursar">{{.Held.Amount}}</td><td class="n" data-label="Disagreements">{{.Disagreements}}</td></tr>
{{end}}</tbody></table>
</section>
{{end}}<section>
<h2>3. The schedule</h2>
{{if .Schedule}}<table>
<thead><tr><th>Job</th><th>Last run</th><th class="n">Records</th><th>Note</th></tr></thead>
<tbody>
{{range .Schedule}}<tr><td data-label="Job">{{.Item}}</td><td class="t" data-label="Last run">{{.What}}</td><td class="n" data-label="Records">{{.Count}}</td><td class="t" data-label="Note">{{if .Details}}<span class="failed">{{.Details}}</span> {{end}}{{.Do}}</td></tr>
{{end}}</tbody></table>
{{else}}<p class="none">The journal keeps no run history.</p>{{end}}
</section>
</main>
</body></html>
`))
