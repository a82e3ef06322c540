package main

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/feebridge/feebridge/reconcile/institutions"
)

// indexTmpl is the index of a deployment's institutions: each one's
// name, its status page, and whether it is ready (its /readyz reasons).
var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>feesync: {{len .Colleges}} colleges</title>
<style>body{font:16px/1.4 system-ui,sans-serif;margin:1rem;max-width:60rem}td,th{padding:.2rem .6rem;text-align:left;vertical-align:top}.bad{color:#a00}</style>
</head><body>
<h1>feesync: {{len .Colleges}} colleges</h1>
<table><thead><tr><th>College</th><th>State</th></tr></thead><tbody>
{{range .Colleges}}<tr><td><a href="{{.Path}}{{$.TokenQuery}}">{{.Name}}</a></td>
<td>{{if .Reasons}}<span class="bad">not ready</span><ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>{{else}}ready{{end}}</td></tr>
{{end}}</tbody></table>
</body></html>
`))

type indexRow struct {
	Name, Path string
	Reasons    []string
}

// deploymentIndex serves / of serve -config-dir: the institutions, each
// with a link to its status page and its readiness.
func deploymentIndex(dep *institutions.Deployment) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		data := struct {
			Colleges   []indexRow
			TokenQuery string
		}{}
		if t := r.URL.Query().Get("token"); t != "" {
			data.TokenQuery = "?token=" + url.QueryEscape(t)
		}
		for _, name := range dep.Names() {
			u, ok := served(dep, name)
			if !ok {
				continue
			}
			data.Colleges = append(data.Colleges, indexRow{Name: name, Path: collegePath(name), Reasons: u.m.unready(ctx, u.started)})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := indexTmpl.Execute(w, data); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}
