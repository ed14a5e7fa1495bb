from image_import_client.cli import main

raise SystemExit(main())
