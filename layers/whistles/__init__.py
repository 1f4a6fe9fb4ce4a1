"""吹哨报到: whistles, called-in department units, helpers, clocks, evaluation, figures."""
