"""FSMA 204 (21 CFR Part 1 Subpart S) records for US buyers: the critical tracking events (CTEs)
and key data elements (KDEs) read from AgriTrace's EPCIS events, the electronic sortable
spreadsheet, the KDE check, the traceability plan and the upstream KDEs of a received lot.
See docs/fsma204.md."""
