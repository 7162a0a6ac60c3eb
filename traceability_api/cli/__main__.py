from traceability_api.cli import main

main()
