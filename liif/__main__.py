from liif.cli import main

raise SystemExit(main())
