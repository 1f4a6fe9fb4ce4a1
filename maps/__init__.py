"""What people look at: map screens (templates + static JS) and folium exports."""
