module nexus.local/scripts/lib/state-store

go 1.26

require (
	github.com/johannesboyne/gofakes3 v1.2.0
	// Newer than the v1.3.5 gofakes3 asks for: the same v1.3 database format and API, with the
	// fixes of v1.3.6 to v1.3.11.
	go.etcd.io/bbolt v1.3.11
)

require (
	github.com/ryszard/goskiplist v0.0.0-20150312221310-2dfbae5fcf46 // indirect
	go.shabbyrobe.org/gocovmerge v0.0.0-20230507111327-fa4f82cfbf4d // indirect
	golang.org/x/sys v0.7.0 // indirect
	golang.org/x/tools v0.8.0 // indirect
	gopkg.in/check.v1 v1.0.0-20201130134442-10cb98267c6c // indirect
	gopkg.in/mgo.v2 v2.0.0-20180705113604-9856a29383ce // indirect
)
