module nexus.local/images/demo

go 1.26
