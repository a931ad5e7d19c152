from mlp_tui.cli import main

raise SystemExit(main())
