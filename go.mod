module github.com/imageops/cloud

go 1.26

require (
	github.com/goccy/go-json v0.12.0
	gopkg.in/yaml.v2 v2.4.0
)

require (
	github.com/gophercloud/gophercloud/v2 v2.15.0 // indirect
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/ulikunitz/xz v0.5.17 // indirect
)
