module demon-e2e/grafana-standin

go 1.24
