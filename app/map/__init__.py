"""Maps for forums and coordinators: GeoJSON layers, vector tiles, live updates and the /map page."""
