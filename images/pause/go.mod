module nexus.local/images/pause

go 1.26
