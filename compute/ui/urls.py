"""Compute dashboard URLs, under `/cloud/` (the API owns `/compute`, `/network`, `/image`, `/volume`).

Volumes (Cinder): `cloud/volumes/` and the server page's volumes card, from `compute.ui.volumes`.
"""

from django.urls import path

from compute.ui import floating_ips, images, keypairs, networks, servers, volumes, wizard

urlpatterns = [
    path("servers/", servers.server_list, name="cloud_servers"),
    path("servers/new/", wizard.server_create, name="cloud_server_create"),
    path("servers/new/quota/", wizard.quota_preview, name="cloud_server_quota"),
    path("servers/<str:server_id>/", servers.server_detail, name="cloud_server"),
    path("servers/<str:server_id>/<slug:slug>/", servers.server_action, name="cloud_server_action"),
    path("volumes/", volumes.volume_list, name="cloud_volumes"),
    path("volumes/server/<str:server_id>/", volumes.server_volumes, name="cloud_server_volumes"),
    path("volumes/new/", volumes.volume_create, name="cloud_volume_create"),
    path("volumes/attach/", volumes.volume_attach, name="cloud_volume_attach"),
    path("volumes/<str:volume_id>/", volumes.volume_detail, name="cloud_volume"),
    path("volumes/<str:volume_id>/detach/", volumes.volume_detach, name="cloud_volume_detach"),
    path("volumes/<str:volume_id>/extend/", volumes.volume_extend, name="cloud_volume_extend"),
    path("volumes/<str:volume_id>/delete/", volumes.volume_delete, name="cloud_volume_delete"),
    path("networks/", networks.network_list, name="cloud_networks"),
    path("networks/new/", networks.network_create, name="cloud_network_create"),
    path("networks/<str:network_id>/delete/", networks.network_delete, name="cloud_network_delete"),
    path("networks/<str:network_id>/subnets/", networks.subnet_create, name="cloud_subnet_create"),
    path("subnets/<str:subnet_id>/delete/", networks.subnet_delete, name="cloud_subnet_delete"),
    path("floating-ips/", floating_ips.fip_list, name="cloud_fips"),
    path("floating-ips/new/", floating_ips.fip_allocate, name="cloud_fip_allocate"),
    path("floating-ips/<str:fip_id>/associate/", floating_ips.fip_associate, name="cloud_fip_associate"),
    path("floating-ips/<str:fip_id>/disassociate/", floating_ips.fip_disassociate, name="cloud_fip_disassociate"),
    path("floating-ips/<str:fip_id>/release/", floating_ips.fip_release, name="cloud_fip_release"),
    path("images/", images.image_list, name="cloud_images"),
    path("images/upload/", images.image_upload, name="cloud_image_upload"),
    path("images/register/", images.image_register, name="cloud_image_register"),
    path("images/<str:image_id>/delete/", images.image_delete, name="cloud_image_delete"),
    path("keypairs/", keypairs.keypair_list, name="cloud_keypairs"),
    path("keypairs/new/", keypairs.keypair_create, name="cloud_keypair_create"),
    path("keypairs/<str:name>/delete/", keypairs.keypair_delete, name="cloud_keypair_delete"),
]
