module nexus.local/images/deploy-check

go 1.26
