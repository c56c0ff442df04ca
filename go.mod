module github.com/imageops/cloud

go 1.26

require (
	github.com/goccy/go-json v0.12.0
	gopkg.in/yaml.v2 v2.4.0
)
