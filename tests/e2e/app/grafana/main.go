// A stand-in for Grafana in the e2e lane (the real Grafana is not built here): it serves the
// two API calls the stack and its smoke check use, from the same inputs the real one reads.
//   GET /api/health                                  always 200 (the probes' path)
//   GET /api/datasources/uid/<uid>/health            basic auth as GF_SECURITY_ADMIN_USER /
//       GF_SECURITY_ADMIN_PASSWORD; the data source is read from the provisioning file the
//       stack mounts, and "healthy" means it answered a Prometheus query, as Grafana checks.
package main

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

var (
	uidLine = regexp.MustCompile(`(?m)^\s*uid:\s*"?([^"\s]+)"?\s*$`)
	urlLine = regexp.MustCompile(`(?m)^\s*url:\s*"?([^"\s]+)"?\s*$`)
)

// datasources reads uid -> url from the provisioning files (one data source per file here).
func datasources(dir string) map[string]string {
	found := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		uid, url := uidLine.FindSubmatch(text), urlLine.FindSubmatch(text)
		if uid != nil && url != nil {
			found[string(uid[1])] = string(url[1])
		}
	}
	return found
}

func reply(w http.ResponseWriter, status int, body map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func main() {
	user, password := os.Getenv("GF_SECURITY_ADMIN_USER"), os.Getenv("GF_SECURITY_ADMIN_PASSWORD")
	dir := "/etc/grafana/provisioning/datasources"
	client := &http.Client{Timeout: 5 * time.Second}
	http.HandleFunc("/api/health", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, 200, map[string]string{"database": "ok", "version": "stand-in"})
	})
	http.HandleFunc("/api/datasources/uid/", func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
			reply(w, 401, map[string]string{"message": "invalid username or password"})
			return
		}
		uid := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/datasources/uid/"), "/health")
		url, known := datasources(dir)[uid]
		if !known {
			reply(w, 404, map[string]string{"message": "data source not found"})
			return
		}
		res, err := client.Get(url + "/api/v1/query?query=1")
		if err != nil {
			reply(w, 400, map[string]string{"status": "ERROR", "message": err.Error()})
			return
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			reply(w, 400, map[string]string{"status": "ERROR", "message": fmt.Sprintf("Prometheus answered HTTP %d", res.StatusCode)})
			return
		}
		reply(w, 200, map[string]string{"status": "OK", "message": "Successfully queried the Prometheus API."})
	})
	port := os.Getenv("GF_SERVER_HTTP_PORT")
	if port == "" {
		port = "3000"
	}
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
